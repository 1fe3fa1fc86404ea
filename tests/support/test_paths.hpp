#pragma once
// Where the tests find their data, helper programs and fixtures: absolute paths of this build
// tree and of its source tree. They are defined in test_paths.cpp, which tests/CMakeLists.txt
// generates into each build tree, so that no test's compile line holds an absolute path and
// ccache serves every clone of the repository the same objects (docs/architecture.md, Build).
// An entry whose program is not part of this build (e.g. kTrackiqBin without the apps) is "".

namespace trackiq::test {

extern const char* const kTestdataDir;     // ../shared/testdata beside the source root
extern const char* const kTcpdDir;         // ../shared/tcpd: the TCPD series and annotations
extern const char* const kResultSchema;    // docs/schema/result.schema.json
extern const char* const kGoldenDir;       // tests/golden
extern const char* const kOpenaiStub;      // tests/support/openai_stub.py
extern const char* const kIdleCloseServer; // tests/support/idle_close_server.py
extern const char* const kResultValidator; // tests/integration/validate_result.py
extern const char* const kFakeNvml;        // the stand-in libnvidia-ml.so.1 (fake_nvml)
extern const char* const kRefServer;       // trackiq_ref_server
extern const char* const kTrackiqBin;      // the trackiq executable
extern const char* const kTestModels;      // models made by the make_test_models fixture
extern const char* const kPostgresState;   // state of the postgres fixture's server (its url)
extern const char* const kTestPlugins;     // folders of stand-in engine plugins the host must refuse
extern const char* const kCppServerExample; // examples/cpp_server (needs LibTorch)

}  // namespace trackiq::test
