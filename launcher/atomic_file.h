#pragma once
/* A file that appears under its name only once it is complete: written as
 * NAME.part in the same directory, synced and renamed to NAME on commit().
 * A crash (or an uncommitted AtomicFile) leaves only NAME.part behind, which
 * is how stale temporaries are recognised. */

#include <glib.h>

#include <memory>
#include <string>

namespace voxbridge::launcher {

/* NAME.part: where NAME is written until it is complete. */
std::string atomic_part_path (const std::string & path);

class AtomicFile {
 public:
  /* Creates (truncates) @path's .part file; nullptr with @error on failure. */
  static std::unique_ptr<AtomicFile> create (const std::string & path, std::string & error);
  ~AtomicFile ();
  AtomicFile (const AtomicFile &) = delete;
  AtomicFile & operator= (const AtomicFile &) = delete;

  bool write (const std::string & data, std::string & error);
  /* fsync, close, rename to the final name. FALSE with @error on failure
   * (the .part file is then left for inspection). */
  bool commit (std::string & error);

  const std::string & path () const { return path_; }
  const std::string & part_path () const { return part_path_; }
  guint64 bytes () const { return bytes_; }
  bool committed () const { return committed_; }

 private:
  AtomicFile (std::string path, int fd);
  std::string path_;
  std::string part_path_;
  int fd_ = -1;
  guint64 bytes_ = 0;
  bool committed_ = false;
};

}  // namespace voxbridge::launcher
