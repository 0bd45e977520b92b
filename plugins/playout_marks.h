#pragma once
/* How realtimesrc and siprtpsink tell each other which answer item of the
 * model is on the wire, through whatever sits between them (queue,
 * audioresample and encoders pass custom events and queries on):
 *
 * - realtimesrc pushes the serialized downstream event PLAYOUT_ITEM_EVENT
 *   {item-id: string} before the first buffer of each item's audio; buffers
 *   flagged GAP carry no item (silence between answers);
 * - at barge-in, after flushing downstream, realtimesrc asks with the custom
 *   query ITEM_SENT_QUERY {item-id: string}; the element that puts the audio
 *   on the wire answers {sent-ms: guint64}, how much of that item it sent. */

#define VOXBRIDGE_PLAYOUT_ITEM_EVENT "voxbridge-playout-item"
#define VOXBRIDGE_ITEM_SENT_QUERY "voxbridge-item-sent"
