#!/usr/bin/env python3
"""Barge-in measured to the packet on a real SIP call (issue 4's "done when").

Starts voxbridge-realtime-sim (speak, one long reply) and the real daemon
(`voxbridge --config`, pipelines/connect-evt-g711.pipeline), then calls it
with a small purpose-built SIP/RTP caller that interrupts the AI's answer
again and again: it waits until it has heard some of the answer, sends a
loud 200 ms burst (the sim's VAD says speech_started), then silence (the
sim answers again). Per interruption it reports:
- cut-off: the daemon's speech.started event (mono_us, CLOCK_MONOTONIC when
  the AI event reached it) to the last AI (non-silence) packet the caller
  received (time.monotonic(), the same clock);
- audio_end_ms of the truncate (the daemon's barge_in event) minus the AI
  audio of that answer the caller received (first to last AI packet).
Asserts the issue's bounds: cut-off <= 20 ms and |audio_end_ms error| <= one
packet (20 ms), for every interruption; prints median and worst.

Usage: bargein_measure.py BUILD_DIR SOURCE_DIR [INTERRUPTIONS]
"""

import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711 encoding of the burst (Python 3.11, Debian 12)
import json
import math
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BUILD_DIR, SOURCE_DIR = (os.path.abspath(p) for p in sys.argv[1:3])
COUNT = int(sys.argv[3]) if len(sys.argv) > 3 else 50
VOXBRIDGE = os.path.join(BUILD_DIR, "launcher", "voxbridge")
SIM = os.path.join(BUILD_DIR, "tools", "realtime-sim", "voxbridge-realtime-sim")
PIPELINES = os.path.join(SOURCE_DIR, "pipelines")
PACKET_S = 0.020
HEARD_BEFORE_INTERRUPT_S = 0.5
REPLY = ("This is a long answer from the offline assistant, spoken on and on "
         "so that the caller has plenty of time to interrupt it. ") * 6
SILENCE = bytes([0xFF]) * 160
TONE = audioop.lin2ulaw(b"".join(
    int(12000 * math.sin(2 * math.pi * 1000 * i / 8000)).to_bytes(2, "little", signed=True)
    for i in range(160)), 2)


class Failure(Exception):
    pass


def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reader(threading.Thread):
    """Collects a child's output lines."""
    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines, self.cond = stream, [], threading.Condition()
        self.start()

    def run(self):
        for line in self.stream:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, pattern, timeout, start=0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    if re.search(pattern, self.lines[i]):
                        return i, self.lines[i]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure("timed out waiting for %r" % pattern)
                self.cond.wait(left)


class Caller:
    """A minimal SIP UAC over UDP with one PCMU RTP stream: sends a packet
    every 20 ms (silence or the burst), records every packet received."""

    def __init__(self, sip_port):
        self.sip_port = sip_port
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.sip.settimeout(10)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.call_id = "bargein-%d@127.0.0.1" % random.randrange(1 << 30)
        self.tag = "c%d" % random.randrange(1 << 30)
        self.received = []          # (monotonic s, is_ai)
        self.lock = threading.Lock()
        self.burst_left = 0
        self.running = True

    def _request(self, method, cseq, to_tag="", body="", branch=None):
        sp = self.sip.getsockname()[1]
        branch = branch or "z9hG4bK%d" % random.randrange(1 << 30)
        to = "<sip:+15550001@127.0.0.1:%d>%s" % (self.sip_port, ";tag=" + to_tag if to_tag else "")
        msg = (f"{method} sip:+15550001@127.0.0.1:{self.sip_port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{sp};branch={branch};rport\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:bargein@127.0.0.1>;tag={self.tag}\r\n"
               f"To: {to}\r\nCall-ID: {self.call_id}\r\nCSeq: {cseq} {method}\r\n"
               f"Contact: <sip:bargein@127.0.0.1:{sp}>\r\n")
        if body:
            msg += "Content-Type: application/sdp\r\n"
        msg += f"Content-Length: {len(body)}\r\n\r\n{body}"
        self.sip.sendto(msg.encode(), ("127.0.0.1", self.sip_port))

    def _response(self):
        while True:
            data = self.sip.recv(65535).decode(errors="replace")
            status = int(data.split(" ", 2)[1]) if data.startswith("SIP/2.0") else 0
            if status >= 200 or status == 0:
                return status, data

    def dial(self):
        rport = self.rtp.getsockname()[1]
        sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {rport} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
               "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n")
        self._request("INVITE", 1, body=sdp)
        status, answer = self._response()
        if status != 200:
            raise Failure("INVITE answered %d" % status)
        self.to_tag = re.search(r"^To:.*;tag=([^;\r\n]+)", answer, re.M | re.I).group(1)
        m = re.search(r"^m=audio (\d+)", answer, re.M)
        c = re.search(r"^c=IN IP4 (\S+)", answer, re.M)
        self.remote_rtp = (c.group(1), int(m.group(1)))
        self._request("ACK", 1, self.to_tag)
        threading.Thread(target=self._send_loop, daemon=True).start()
        threading.Thread(target=self._receive_loop, daemon=True).start()

    def hang_up(self):
        self.running = False
        self._request("BYE", 2, self.to_tag)
        try:
            self._response()
        except socket.timeout:
            pass

    def burst(self, packets=10):
        self.burst_left = packets

    def _send_loop(self):
        seq, ts, ssrc = random.randrange(65536), random.randrange(1 << 32), random.randrange(1 << 32)
        next_t = time.monotonic()
        while self.running:
            payload = TONE if self.burst_left > 0 else SILENCE
            self.burst_left = max(0, self.burst_left - 1)
            header = bytes([0x80, 0]) + seq.to_bytes(2, "big") + ts.to_bytes(4, "big") + ssrc.to_bytes(4, "big")
            self.rtp.sendto(header + payload, self.remote_rtp)
            seq, ts = (seq + 1) & 0xFFFF, (ts + 160) & 0xFFFFFFFF
            next_t += PACKET_S
            time.sleep(max(0, next_t - time.monotonic()))

    def _receive_loop(self):
        self.rtp.settimeout(0.5)
        while self.running:
            try:
                data = self.rtp.recv(2048)
            except socket.timeout:
                continue
            now = time.monotonic()
            if len(data) < 12 or (data[1] & 0x7F) != 0:
                continue
            payload = data[12:]
            is_ai = any(b not in (0xFF, 0x7F) for b in payload)
            with self.lock:
                self.received.append((now, is_ai))

    def packets(self):
        with self.lock:
            return list(self.received)


def ai_run_ending_before(packets, t_limit):
    """The AI answer playing around @t_limit: (first AI packet, last AI packet
    before a 300 ms silence, count of packets between them inclusive)."""
    last = None
    for i, (t, ai) in enumerate(packets):
        if ai and t <= t_limit:
            last = i
    if last is None:
        return None
    # the answer's end: the last AI packet not followed by >= 15 silent packets
    end, silent = last, 0
    for i in range(last + 1, len(packets)):
        if packets[i][1]:
            end, silent = i, 0
        else:
            silent += 1
            if silent >= 15:
                break
    start, silent = last, 0
    for i in range(last - 1, -1, -1):
        if packets[i][1]:
            start, silent = i, 0
        else:
            silent += 1
            if silent >= 15:
                break
    return packets[start][0], packets[end][0], end - start + 1


def main():
    work = tempfile.mkdtemp(prefix="bargein-")
    procs = []
    try:
        sim = subprocess.Popen([SIM, "--port", "0", "--behaviour", "speak", "--reply", REPLY],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(sim)
        sim_out, sim_err = Reader(sim.stdout), Reader(sim.stderr)
        _, line = sim_out.wait_for(r"listening on ws://", 20)
        ai_url = re.search(r"(ws://\S+)", line).group(1) + "/v1/realtime"
        sip_port = free_port()
        rtp_base = random.randrange(40000, 59000, 2)
        config = os.path.join(work, "bargein.conf")
        with open(config, "w") as f:
            f.write(f"""[sip]
listen = udp://127.0.0.1:{sip_port}
media-address = 127.0.0.1
rtp-ports = {rtp_base}-{rtp_base + 19}
max-calls = 4
[ai]
url = {ai_url}
model = gpt-realtime
[http]
listen = 127.0.0.1:{free_port(socket.SOCK_STREAM)}
[log]
format = json
[route assistant]
pipeline = {PIPELINES}/connect-evt-g711.pipeline
instructions = Test.
barge-in = true
""")
        # meson's test environment names the build's plugins and the system ones.
        env = dict(os.environ)
        if "GST_PLUGIN_PATH_1_0" not in env:
            env["GST_PLUGIN_PATH_1_0"] = os.path.join(BUILD_DIR, "plugins")
        daemon = subprocess.Popen([VOXBRIDGE, "--config", config], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env)
        procs.append(daemon)
        events, daemon_err = Reader(daemon.stdout), Reader(daemon.stderr)
        try:
            daemon_err.wait_for(r"listening: SIP port", 20)
        except Failure:
            raise Failure("voxbridge did not start:\n" + "\n".join(daemon_err.lines))

        caller = Caller(sip_port)
        try:
            caller.dial()
        except Failure as e:
            raise Failure(str(e) + "\n" + "\n".join(daemon_err.lines[-15:] + events.lines[-5:]))
        time.sleep(0.5)
        caller.burst()              # the first question: no interruption yet
        results = []
        for n in range(COUNT + 1):
            # wait until the answer has been heard for a while
            deadline = time.monotonic() + 20
            while True:
                pk = caller.packets()
                ai_times = [t for t, ai in pk[-int(HEARD_BEFORE_INTERRUPT_S / PACKET_S) - 5:] if ai]
                if len(ai_times) >= HEARD_BEFORE_INTERRUPT_S / PACKET_S:
                    break
                if time.monotonic() > deadline:
                    raise Failure("no AI answer heard (interruption %d)" % n)
                time.sleep(0.02)
            if n == COUNT:
                break
            with events.cond:
                ev_pos = len(events.lines)
            caller.burst()
            i, line = events.wait_for(r'"event":"speech.started"', 10, ev_pos)
            started = json.loads(line)
            j, line = events.wait_for(r'"event":"barge_in"', 10, i)
            barge = json.loads(line)
            event_s = int(started["mono_us"]) / 1e6
            time.sleep(0.4)         # let the answer's tail (if any) arrive
            run = ai_run_ending_before(caller.packets(), event_s + 0.4)
            if run is None:
                raise Failure("interruption %d: no AI audio received" % n)
            first_t, last_t, count = run
            cutoff_ms = (last_t - event_s) * 1000
            received_ms = count * PACKET_S * 1000
            end_error_ms = int(barge["audio_end_ms"]) - received_ms
            results.append((cutoff_ms, end_error_ms, barge.get("counted_at", "")))
            print("interruption %2d: cut-off %7.2f ms  audio_end_ms %5s  received %5.0f ms  "
                  "error %+5.0f ms  (%s)" % (n + 1, cutoff_ms, barge["audio_end_ms"], received_ms,
                                           end_error_ms, barge.get("counted_at", "")), flush=True)
            # wait for the next answer to start (the burst is a new question)
        caller.hang_up()
        time.sleep(1)

        cut = sorted(r[0] for r in results)
        err = [abs(r[1]) for r in results]
        print("barge-in over %d interruptions: cut-off median %.2f ms, worst %.2f ms; "
              "|audio_end_ms - received| median %.0f ms, worst %.0f ms"
              % (len(results), statistics.median(cut), cut[-1], statistics.median(err), max(err)))
        problems = []
        if cut[-1] > 20:
            problems.append("cut-off above 20 ms: worst %.2f ms" % cut[-1])
        if max(err) > 20:
            problems.append("audio_end_ms off by more than one packet: worst %.0f ms" % max(err))
        if any(r[2] != "wire" for r in results):
            problems.append("some truncates not counted at siprtpsink")
        if problems:
            raise Failure("; ".join(problems))
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
