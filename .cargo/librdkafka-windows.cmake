# Extra CMake settings for rdkafka-sys's cmake-build of librdkafka on Windows,
# passed as its toolchain file by .cargo/config.toml.
#
# librdkafka always compiles its bundled snappy, but with WITHOUT_WIN32_CONFIG
# (its CMake default on Windows) src/CMakeLists.txt defines WITH_SNAPPY from a
# CMake variable that nothing sets, so Windows builds would lack "snappy" in
# builtin.features and could not read snappy-compressed messages.
set(WITH_SNAPPY ON CACHE BOOL "librdkafka's bundled snappy" FORCE)
