#pragma once

/* Runs voxbridge-realtime-sim (from the build tree) for a test.
 *
 *   voxbridge::test::RealtimeSimProcess sim ({"--behaviour", "echo"});
 *   ASSERT_TRUE (sim.started ()) << sim.log ();
 *   connect to sim.url ();
 *
 * The binary is $VOXBRIDGE_BUILD_DIR/tools/realtime-sim/voxbridge-realtime-sim,
 * started with --port 0; the port is read from its "listening on" line. The
 * process gets SIGTERM when the object dies, and SIGKILL should the test
 * process itself die. */

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <glib.h>

namespace voxbridge::test {

class RealtimeSimProcess {
 public:
  explicit RealtimeSimProcess (std::vector<std::string> extra_args = {});
  ~RealtimeSimProcess ();  /* SIGTERM + wait */
  RealtimeSimProcess (const RealtimeSimProcess &) = delete;
  RealtimeSimProcess &operator= (const RealtimeSimProcess &) = delete;

  bool started () const;  /* saw the "listening on" line within 10 s */
  guint16 port () const;
  /* ws:// or wss:// URL of the sim with @path_and_query. */
  std::string url (const std::string &path_and_query = "/v1/realtime?model=gpt-realtime") const;
  void kill_now ();        /* SIGKILL: "server died mid-session" tests */
  std::string log () const;  /* captured stderr so far */

  /* SIGTERM and wait; the exit status (or -1 if it died of a signal or was
   * already reaped). */
  int terminate ();

 private:
  void read_stdout (int fd);
  void read_stderr (int fd);
  int wait_exit (int timeout_ms);

  GPid pid_ = 0;
  bool reaped_ = false;
  int exit_status_ = -1;
  std::thread stdout_reader_;
  std::thread stderr_reader_;

  mutable std::mutex mutex_;
  std::condition_variable listening_cv_;
  bool listening_ = false;
  bool stdout_closed_ = false;
  bool tls_ = false;
  guint16 port_ = 0;
  std::string log_;
};

}  // namespace voxbridge::test
