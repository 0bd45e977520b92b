#include "realtime_sim_process.h"

#include <chrono>
#include <csignal>
#include <cstdlib>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace voxbridge::test {

static std::string
sim_binary ()
{
  const char *build_dir = g_getenv ("VOXBRIDGE_BUILD_DIR");
  return std::string (build_dir ? build_dir : ".") +
      "/tools/realtime-sim/voxbridge-realtime-sim";
}

static void
die_with_parent (gpointer)
{
  /* Never leave a sim behind when the test binary crashes. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

RealtimeSimProcess::RealtimeSimProcess (std::vector<std::string> extra_args)
{
  std::vector<std::string> args = {sim_binary (), "--port", "0"};
  args.insert (args.end (), extra_args.begin (), extra_args.end ());
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back (a.data ());
  argv.push_back (nullptr);

  int out_fd = -1, err_fd = -1;
  GError *error = nullptr;
  if (!g_spawn_async_with_pipes (nullptr, argv.data (), nullptr, G_SPAWN_DO_NOT_REAP_CHILD,
          die_with_parent, nullptr, &pid_, nullptr, &out_fd, &err_fd, &error)) {
    log_ = std::string ("spawning ") + args[0] + " failed: " + error->message;
    g_error_free (error);
    reaped_ = true;
    return;
  }
  stdout_reader_ = std::thread (&RealtimeSimProcess::read_stdout, this, out_fd);
  stderr_reader_ = std::thread (&RealtimeSimProcess::read_stderr, this, err_fd);

  std::unique_lock<std::mutex> lock (mutex_);
  listening_cv_.wait_for (lock, std::chrono::seconds (10),
      [this] { return listening_ || stdout_closed_; });
}

RealtimeSimProcess::~RealtimeSimProcess ()
{
  terminate ();
  if (stdout_reader_.joinable ())
    stdout_reader_.join ();
  if (stderr_reader_.joinable ())
    stderr_reader_.join ();
}

void
RealtimeSimProcess::read_stdout (int fd)
{
  std::string pending;
  char buf[512];
  ssize_t n;
  while ((n = read (fd, buf, sizeof (buf))) > 0) {
    pending.append (buf, static_cast<size_t> (n));
    size_t eol;
    while ((eol = pending.find ('\n')) != std::string::npos) {
      std::string line = pending.substr (0, eol);
      pending.erase (0, eol + 1);
      size_t at = line.find ("listening on ");
      if (at == std::string::npos)
        continue;
      std::string url = line.substr (at + 13);
      size_t colon = url.rfind (':');
      std::lock_guard<std::mutex> lock (mutex_);
      tls_ = g_str_has_prefix (url.c_str (), "wss://");
      port_ = colon == std::string::npos ? 0
                                         : static_cast<guint16> (std::atoi (url.c_str () + colon + 1));
      listening_ = port_ != 0;
      listening_cv_.notify_all ();
    }
  }
  close (fd);
  std::lock_guard<std::mutex> lock (mutex_);
  stdout_closed_ = true;
  listening_cv_.notify_all ();
}

void
RealtimeSimProcess::read_stderr (int fd)
{
  char buf[4096];
  ssize_t n;
  while ((n = read (fd, buf, sizeof (buf))) > 0) {
    std::lock_guard<std::mutex> lock (mutex_);
    log_.append (buf, static_cast<size_t> (n));
  }
  close (fd);
}

bool
RealtimeSimProcess::started () const
{
  std::lock_guard<std::mutex> lock (mutex_);
  return listening_;
}

guint16
RealtimeSimProcess::port () const
{
  std::lock_guard<std::mutex> lock (mutex_);
  return port_;
}

std::string
RealtimeSimProcess::url (const std::string &path_and_query) const
{
  std::lock_guard<std::mutex> lock (mutex_);
  return std::string (tls_ ? "wss://" : "ws://") + "127.0.0.1:" + std::to_string (port_) +
      path_and_query;
}

std::string
RealtimeSimProcess::log () const
{
  std::lock_guard<std::mutex> lock (mutex_);
  return log_;
}

int
RealtimeSimProcess::wait_exit (int timeout_ms)
{
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    int status = 0;
    pid_t r = waitpid (pid_, &status, WNOHANG);
    if (r == pid_ || r < 0) {
      reaped_ = true;
      g_spawn_close_pid (pid_);
      exit_status_ = r == pid_ && WIFEXITED (status) ? WEXITSTATUS (status) : -1;
      return exit_status_;
    }
    g_usleep (10 * 1000);
  }
  return -2;  /* still running */
}

int
RealtimeSimProcess::terminate ()
{
  if (reaped_)
    return exit_status_;
  kill (pid_, SIGTERM);
  if (wait_exit (10000) == -2) {
    kill (pid_, SIGKILL);
    wait_exit (10000);
    exit_status_ = -1;
  }
  return exit_status_;
}

void
RealtimeSimProcess::kill_now ()
{
  if (reaped_)
    return;
  kill (pid_, SIGKILL);
  wait_exit (10000);
  exit_status_ = -1;
}

}  // namespace voxbridge::test
