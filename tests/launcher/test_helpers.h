#pragma once
/* Shared helpers of the launcher tests. */

#include <glib.h>

#include <string>

namespace voxbridge::launcher::test {

/* The source tree (meson sets VOXBRIDGE_SOURCE_DIR for every test). */
inline std::string
source_dir ()
{
  const char *dir = g_getenv ("VOXBRIDGE_SOURCE_DIR");
  gchar *canonical = g_canonicalize_filename (dir ? dir : ".", nullptr);
  std::string out (canonical);
  g_free (canonical);
  return out;
}

inline std::string
source_path (const std::string & relative)
{
  return source_dir () + "/" + relative;
}

}  // namespace voxbridge::launcher::test
