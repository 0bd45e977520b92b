#!/usr/bin/env bash
# The main job: a real SIP call on this machine. Starts the off-line Realtime
# server and the voxbridge launcher, then calls in with voxbridge-call, which
# speaks a question (espeak-ng) over G.711 RTP. The AI answers over RTP; you
# see the call events and transcripts, and get a stereo recording of the call
# (caller left, AI right).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
./tools/build.sh >/dev/null

out="$PWD/out/demo"
mkdir -p "$out"
rm -rf "$out/recordings"
question="${1:-Hello! Can you tell me when the store opens tomorrow morning?}"
espeak-ng -v en-us -s 150 -w "$out/question-raw.wav" "$question"
sox -q "$out/question-raw.wav" -r 8000 -c 1 -b 16 "$out/question.wav" pad 0.3 1.2
rm -f "$out/question-raw.wav"

export GST_PLUGIN_SYSTEM_PATH_1_0=""
export GST_PLUGIN_PATH_1_0="$PWD/build/plugins:$(pkg-config --variable=pluginsdir gstreamer-1.0)"
export GST_REGISTRY_1_0="$PWD/build/gst-registry.bin"

read -r sip_port http_port ai_port < <(python3 tools/free-port.py 3)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# The AI: the off-line Realtime server (speaks its answers with espeak-ng).
build/tools/realtime-sim/voxbridge-realtime-sim --port "$ai_port" --behaviour speak \
  --reply "Good morning! The store opens at nine o'clock tomorrow. Is there anything else I can help you with?" \
  > "$out/realtime-sim.out" 2> "$out/realtime-sim.log" &
pids+=($!)

# The launcher, with the local development config on this run's ports.
sed -e "s#127.0.0.1:5060#127.0.0.1:$sip_port#g; s#127.0.0.1:8765#127.0.0.1:$ai_port#; \
        s#127.0.0.1:8080#127.0.0.1:$http_port#; s#\.\./pipelines/#$PWD/pipelines/#; \
        s#prompts/unavailable.wav#$PWD/examples/prompts/unavailable.wav#" \
  examples/local-dev.conf > "$out/voxbridge.conf"
build/launcher/voxbridge --config "$out/voxbridge.conf" > "$out/voxbridge-events.log" 2> "$out/voxbridge.log" &
pids+=($!)
for _ in $(seq 50); do
  grep -q "listening on" "$out/realtime-sim.out" 2>/dev/null && \
    python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$http_port/health', timeout=1)" 2>/dev/null && break
  sleep 0.1
done

echo "voxbridge launcher: sip:127.0.0.1:$sip_port  http://127.0.0.1:$http_port  (AI: off-line server on port $ai_port)"
echo "Caller says: \"$question\""
echo
echo "--- launcher call events ---"
tail -n +1 -f "$out/voxbridge-events.log" | sed -u 's/^[0-9T:.-]*Z /  /' &
tail_pid=$!
pids+=($tail_pid)
set +e
build/tools/call/voxbridge-call "sip:assistant@127.0.0.1:$sip_port" --play "$out/question.wav" \
  --record "$out/call.wav" --header "User-to-User: 436f6e7461637449643d31323334;encoding=hex" \
  2> >(grep -v su_source_port_create >&2) | sed -u 's/^/  caller: /'
status=${PIPESTATUS[0]}
set -e
# After the hang-up the launcher finishes the recording and the transcript
# and asks the model for a summary of the call.
for _ in $(seq 100); do
  grep -q "call.ended" "$out/voxbridge-events.log" 2>/dev/null && \
    grep -Eq "call.summary|cause=summary" "$out/voxbridge-events.log" && break
  sleep 0.2
done
sleep 0.5
kill "$tail_pid" 2>/dev/null || true
echo
if [ "$status" -ne 0 ]; then
  echo "The call failed (exit $status); see $out/voxbridge.log"
  exit "$status"
fi
sox "$out/call.wav" -n spectrogram -x 900 -y 200 \
  -t "voxbridge call: caller (left, top) and AI (right, bottom)" -o "$out/call.png"
echo "Listen to the call (stereo: caller left, AI right): $out/call.wav"
echo "See it (spectrogram of both channels):              $out/call.png"
for f in "$out"/recordings/*.wav; do
  [ -e "$f" ] && echo "The launcher's own recording of the call:          $f"
done
for f in "$out"/recordings/*.jsonl; do
  [ -e "$f" ] && echo "Transcript (JSON lines):                           $f"
done
echo "Launcher events: $out/voxbridge-events.log   launcher log: $out/voxbridge.log"
