#!/usr/bin/env python3
"""One sipd end-to-end case: start sipd-test-daemon on a free loopback port,
run real sipp scenarios against it, check sipp's exit codes and the daemon's
event lines, then SIGTERM the daemon and check that it shut down cleanly and
released every RTP port, registry entry and call (its exit status says so).

Usage: run_sipp_case.py DAEMON SCENARIO_DIR CASE
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

# name: daemon options, sipp steps, daemon lines that must appear.
# A step is (scenario, extra sipp args, background?). Background steps run
# while the following ones do (for the call-limit case) and are waited for
# at the end; "wait:REGEX" waits for a daemon line before the next step.
CASES = {
    "basic-udp": {
        "daemon": [],
        "steps": [("basic_call.xml", [], False)],
        "expect": [r"EVENT incoming \S+ .*call.sip_id=\S+",
                   r"EVENT incoming \S+ .*from\.user=\+15550199",
                   r"EVENT incoming \S+ .*request\.user=\+15550100",
                   r'EVENT incoming \S+ .*uui={"contactId":"abc"}',
                   r"EVENT incoming \S+ .*uui\.raw=7b22",
                   r"EVENT incoming \S+ .*header\.X-Amzn-ConnectContactId=0b9a1d6e-contact",
                   r"EVENT state \S+ confirmed codec=PCMU pt=0 dtmf=101",
                   r"EVENT dtmf \S+ 5 160",
                   r"EVENT ended \S+ by=remote status=200"],
    },
    "basic-tcp": {
        "daemon": [],
        "steps": [("basic_call.xml", ["-t", "t1"], False)],
        "expect": [r"EVENT state \S+ confirmed codec=PCMU",
                   r"EVENT ended \S+ by=remote status=200"],
    },
    "callee-bye": {
        "daemon": ["--hangup-after-ms", "300"],
        "steps": [("callee_bye.xml", [], False)],
        "expect": [r"EVENT ended \S+ by=local status=200"],
    },
    "cancel": {
        "daemon": ["--answer-delay-ms", "5000"],
        "steps": [("cancel.xml", [], False)],
        "expect": [r"EVENT ended \S+ by=remote status=487"],
        "absent": [r"EVENT state \S+ answered"],
    },
    "options": {
        "daemon": [],
        "steps": [("options.xml", [], False)],
        "expect": [],
    },
    "no-sdp": {
        "daemon": ["--answer-delay-ms", "100"],
        "steps": [("invite_no_sdp.xml", [], False)],
        "expect": [r"EVENT state \S+ confirmed codec=PCMA pt=8",
                   r"EVENT ended \S+ by=remote status=200"],
    },
    "reinvite-hold": {
        "daemon": [],
        "steps": [("reinvite_hold.xml", [], False)],
        "expect": [r"EVENT hold \S+ held=1 send=0",
                   r"EVENT hold \S+ held=0 send=1",
                   r"EVENT ended \S+ by=remote status=200"],
    },
    "pcma-only": {
        "daemon": [],
        "steps": [("pcma_only.xml", [], False)],
        "expect": [r"EVENT state \S+ confirmed codec=PCMA pt=8 dtmf=-1"],
    },
    "g729-only-488": {
        "daemon": [],
        "steps": [("g729_only.xml", [], False)],
        "expect": [],
        "absent": [r"EVENT incoming"],
    },
    "call-limit-503": {
        "daemon": ["--max-calls", "1"],
        "steps": [("long_call.xml", [], True),
                  ("wait:EVENT state \\S+ confirmed", [], False),
                  ("reject_503.xml", [], False)],
        "expect": [r"EVENT ended \S+ by=remote status=200"],
    },
    "app-503": {
        "daemon": ["--reject", "503"],
        "steps": [("reject_503.xml", [], False)],
        "expect": [r"EVENT ended \S+ by=local status=503"],
    },
    "shutdown-bye": {
        "daemon": [],
        "steps": [("callee_bye.xml", [], True),
                  ("wait:EVENT state \\S+ confirmed", [], False),
                  ("term", [], False)],
        "expect": [r"EVENT ended \S+ by=local status=200 reason=shutdown"],
    },
    "dial-out": {
        "daemon": ["--dial", "sip:service@127.0.0.1:{sipp_port}",
                   "--dial-after-ms", "700", "--hangup-after-ms", "300"],
        "steps": [("builtin:uas", [], False)],
        "expect": [r"EVENT state \S+ ringing",
                   r"EVENT state \S+ confirmed codec=PCMU pt=0",
                   r"EVENT ended \S+ by=local status=200"],
    },
    "refer-accepted": {
        "daemon": ["--refer-to", "sip:agent@127.0.0.1:5099"],
        "steps": [("refer_accept.xml", [], False)],
        "expect": [r"EVENT refer \S+ stage=accepted status=202",
                   r"EVENT refer \S+ stage=trying status=100",
                   r"EVENT refer \S+ stage=succeeded status=200 phrase=OK",
                   r"EVENT ended \S+ by=local status=200 reason=transferred"],
        "absent": [r"EVENT refer \S+ stage=(failed|refused)"],
    },
    "refer-refused": {
        "daemon": ["--refer-to", "sip:agent@127.0.0.1:5099"],
        "steps": [("refer_refuse.xml", [], False)],
        "expect": [r"EVENT refer \S+ stage=refused status=405",
                   r"EVENT ended \S+ by=local status=200 reason=transfer failed"],
        "absent": [r"EVENT refer \S+ stage=(accepted|succeeded)"],
    },
    "refer-target-busy": {
        "daemon": ["--refer-to", "sip:agent@127.0.0.1:5099"],
        "steps": [("refer_target_busy.xml", [], False)],
        "expect": [r"EVENT refer \S+ stage=accepted status=202",
                   r"EVENT refer \S+ stage=failed status=486 phrase=Busy Here",
                   r"EVENT ended \S+ by=local status=200 reason=transfer failed"],
        "absent": [r"EVENT refer \S+ stage=succeeded"],
    },
    "broken-sdp": {
        "daemon": [],
        "steps": [("broken_sdp.xml", [], False)],
        "expect": [r"EVENT state \S+ confirmed codec=PCMU pt=0",
                   r"EVENT ended \S+ by=remote status=200"],
    },
    "malformed": {
        "daemon": [],
        "steps": [("malformed.xml", [], False)],
        "expect": [],
        "absent": [r"EVENT incoming"],
    },
}


def free_port():
    """A port free for both UDP and TCP on loopback."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                    t.bind(("127.0.0.1", port))
                    return port
            except OSError:
                continue
    raise RuntimeError("no free port")


class Daemon:
    def __init__(self, argv):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.stderr = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr),
                         daemon=True).start()

    def _read(self, stream, sink):
        for line in stream:
            with self.cond:
                sink.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, regex, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if any(re.search(regex, l) for l in self.lines):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return False
                self.cond.wait(left)


def main():
    daemon_exe, scenario_dir, case_name = sys.argv[1:4]
    case = CASES[case_name]
    port = free_port()
    sipp_port = free_port()
    rtp_base = 32000 + (port % 1000) * 20
    argv = [daemon_exe, "--port", str(port), "--rtp-min", str(rtp_base),
            "--rtp-max", str(rtp_base + 19)] + [
                a.replace("{sipp_port}", str(sipp_port)) for a in case["daemon"]]
    print("daemon:", " ".join(argv))
    daemon = Daemon(argv)
    failures = []
    background = []
    logdir = tempfile.mkdtemp(prefix="sipd-e2e-")
    try:
        if not daemon.wait_for(r"^READY", 10):
            failures.append("daemon did not start")
            return
        for index, (scenario, extra, in_background) in enumerate(case["steps"]):
            if scenario.startswith("wait:"):
                if not daemon.wait_for(scenario[5:], 15):
                    failures.append("daemon never printed " + scenario[5:])
                    return
                continue
            if scenario == "term":
                daemon.proc.terminate()
                continue
            if scenario.startswith("builtin:"):
                scenario_args = ["-sn", scenario[8:]]
            else:
                scenario_args = ["-sf", os.path.join(scenario_dir, scenario)]
            sipp = ["sipp", "127.0.0.1:%d" % port] + scenario_args + [
                    "-m", "1", "-i", "127.0.0.1",
                    "-p", str(sipp_port + index if index else sipp_port),
                    "-timeout", "20s", "-timeout_error",
                    "-trace_err", "-error_file",
                    os.path.join(logdir, "%d-errors.log" % index),
                    "-trace_msg", "-message_file",
                    os.path.join(logdir, "%d-messages.log" % index)] + extra
            if index:
                # the extra port for a second concurrent sipp
                sipp[sipp.index("-p") + 1] = str(free_port())
            print("sipp:", " ".join(sipp))
            proc = subprocess.Popen(sipp, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            if in_background:
                background.append((scenario, proc, index))
                continue
            _, err = proc.communicate(timeout=40)
            if proc.returncode != 0:
                failures.append("sipp %s exited %d %s" % (scenario, proc.returncode, err))
                dump(logdir, index)
        for scenario, proc, index in background:
            _, err = proc.communicate(timeout=40)
            if proc.returncode != 0:
                failures.append("sipp %s exited %d %s" % (scenario, proc.returncode, err))
                dump(logdir, index)
        for regex in case["expect"]:
            if not daemon.wait_for(regex, 5):
                failures.append("daemon never printed " + regex)
        for regex in case.get("absent", []):
            if any(re.search(regex, l) for l in daemon.lines):
                failures.append("daemon printed " + regex)
        if case.get("dump"):
            dump(logdir, 0)
    finally:
        for _, proc, _ in background:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if daemon.proc.poll() is None:
            daemon.proc.terminate()
        try:
            code = daemon.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            daemon.proc.kill()
            code = daemon.proc.wait()
            failures.append("daemon did not shut down on SIGTERM")
        time.sleep(0.1)
        print("\n".join(daemon.lines))
        print("\n".join(daemon.stderr), file=sys.stderr)
        if not any(re.match(r"STATS rtp_ports_in_use=0 registry=0 calls=0$", l)
                   for l in daemon.lines):
            failures.append("daemon did not release everything")
        if code != 0:
            failures.append("daemon exited %d" % code)
        if failures:
            print("FAIL:\n  " + "\n  ".join(failures))
            sys.exit(1)
        print("PASS")


def dump(logdir, index):
    for suffix in ("errors", "messages"):
        path = os.path.join(logdir, "%d-%s.log" % (index, suffix))
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                print("---- %s ----\n%s" % (path, f.read()[-6000:]))


if __name__ == "__main__":
    main()
