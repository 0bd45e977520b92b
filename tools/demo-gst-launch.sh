#!/usr/bin/env bash
# A gst-launch experiment without SIP: a spoken question (espeak-ng) goes through a
# gst-launch graph into realtimesink; the off-line Realtime server answers
# with speech; realtimesrc writes the answer to a WAV. Shows the session's
# events and tells you where to listen.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
./tools/build.sh >/dev/null

out="$PWD/out/demo"
mkdir -p "$out"
question="${1:-Hello! Can you tell me when the store opens tomorrow morning?}"

# The caller: a spoken question, 24 kHz mono, with the pause a person leaves.
espeak-ng -v en-us -s 150 -w "$out/question-raw.wav" "$question"
sox -q "$out/question-raw.wav" -r 24000 -c 1 -b 16 "$out/question.wav" pad 0.3 1.2
rm -f "$out/question-raw.wav"

export GST_PLUGIN_SYSTEM_PATH_1_0=""
export GST_PLUGIN_PATH_1_0="$PWD/build/plugins:$(pkg-config --variable=pluginsdir gstreamer-1.0)"
export GST_REGISTRY_1_0="$PWD/build/gst-registry.bin"

# The AI: the off-line Realtime server on a free loopback port.
sim_log="$out/realtime-sim.log"
build/tools/realtime-sim/voxbridge-realtime-sim --port 0 --behaviour speak \
  --reply "Good morning! The store opens at nine o'clock tomorrow. Is there anything else I can help you with?" \
  > "$out/sim.stdout" 2> "$sim_log" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q "listening on" "$out/sim.stdout" 2>/dev/null && break
  sleep 0.1
done
url="$(sed -n 's/.*listening on \(ws[^ ]*\).*/\1/p' "$out/sim.stdout")/v1/realtime?model=gpt-realtime"
echo "AI server: $url (off-line voxbridge-realtime-sim)"
echo "Caller says: \"$question\""
echo

gst-launch-1.0 -m -e \
  filesrc location="$out/question.wav" ! wavparse ! audioconvert ! audioresample ! \
    audio/x-raw,format=S16LE,rate=24000,channels=1 ! \
    realtimesink session=demo url="$url" transcription-model=whisper-1 \
      instructions="You are the store's friendly phone assistant." \
  realtimesrc session=demo num-responses=1 ! queue max-size-time=0 max-size-buffers=0 \
    max-size-bytes=0 ! wavenc ! filesink location="$out/answer.wav" \
  2>&1 | python3 tools/show-session-events.py

sox -q "$out/question.wav" "$out/answer.wav" "$out/conversation.wav"
echo
echo "Listen to the AI's answer:      $out/answer.wav ($(soxi -D "$out/answer.wav") s)"
echo "The whole exchange, in order:   $out/conversation.wav"
echo "Server log:                     $sim_log"
