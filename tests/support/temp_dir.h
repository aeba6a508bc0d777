// A private temporary folder removed with everything in it at scope end.
#pragma once

#include <string>

namespace hubpoll::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `contents` to `path`, replacing it. Throws on failure.
void write_file(const std::string& path, const std::string& contents);

// Reads a whole file. Throws on failure.
std::string read_file(const std::string& path);

// The recorded Twitter fixtures folder; fails the current test with the
// path it looked at when the folder is missing.
std::string fixtures_dir();

}  // namespace hubpoll::testing
