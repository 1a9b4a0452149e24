// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// A main() for builds without libFuzzer (gcc, the ci/asan presets): runs LLVMFuzzerTestOneInput once on
// every file named on the command line or found in a directory named there (missing directories are
// skipped). ctest runs it over the seed corpus and tests/fuzz/regressions/<target>/, so every input that
// once crashed stays a regression test in every build, sanitized or not.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

int runFile(const std::filesystem::path &path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return 1;
    }
    const std::vector<char> bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    // An exact-size heap copy, so AddressSanitizer sees a read past the end as libFuzzer would.
    std::vector<uint8_t> input(bytes.begin(), bytes.end());
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", path.c_str(), input.size());
    LLVMFuzzerTestOneInput(input.data(), input.size());
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    int failures = 0;
    int inputs = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path path(argv[i]);
        if (std::filesystem::is_directory(path)) {
            for (const auto &entry : std::filesystem::directory_iterator(path)) {
                if (entry.is_regular_file() && entry.path().filename() != "README.md") {
                    failures += runFile(entry.path());
                    ++inputs;
                }
            }
        } else if (std::filesystem::exists(path)) {
            failures += runFile(path);
            ++inputs;
        }
    }
    std::fprintf(stderr, "%d input(s) replayed\n", inputs);
    if (inputs == 0) {
        std::fprintf(stderr, "no inputs found: is the corpus path right?\n");
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
