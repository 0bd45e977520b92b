/* Write-then-rename files. */

#include "atomic_file.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <cerrno>

namespace voxbridge::launcher {

std::string
atomic_part_path (const std::string & path)
{
  return path + ".part";
}

AtomicFile::AtomicFile (std::string path, int fd)
  : path_ (std::move (path)), part_path_ (atomic_part_path (path_)), fd_ (fd)
{
}

AtomicFile::~AtomicFile ()
{
  if (fd_ >= 0)
    close (fd_);
}

std::unique_ptr<AtomicFile>
AtomicFile::create (const std::string & path, std::string & error)
{
  const std::string part = atomic_part_path (path);
  int fd = g_open (part.c_str (), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "could not create " + part + ": " + g_strerror (errno);
    return nullptr;
  }
  return std::unique_ptr<AtomicFile> (new AtomicFile (path, fd));
}

bool
AtomicFile::write (const std::string & data, std::string & error)
{
  if (fd_ < 0) {
    error = part_path_ + " is closed";
    return false;
  }
  size_t done = 0;
  while (done < data.size ()) {
    ssize_t n = ::write (fd_, data.data () + done, data.size () - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = "could not write " + part_path_ + ": " + g_strerror (errno);
      return false;
    }
    done += static_cast<size_t> (n);
  }
  bytes_ += done;
  return true;
}

bool
AtomicFile::commit (std::string & error)
{
  if (committed_)
    return true;
  if (fd_ < 0) {
    error = part_path_ + " is closed";
    return false;
  }
  /* Synced before the rename: after a power cut the final name holds the
   * whole file or does not exist. */
  if (fsync (fd_) != 0) {
    error = "could not sync " + part_path_ + ": " + g_strerror (errno);
    return false;
  }
  close (fd_);
  fd_ = -1;
  if (g_rename (part_path_.c_str (), path_.c_str ()) != 0) {
    error = "could not rename " + part_path_ + " to " + path_ + ": " + g_strerror (errno);
    return false;
  }
  committed_ = true;
  return true;
}

}  // namespace voxbridge::launcher
