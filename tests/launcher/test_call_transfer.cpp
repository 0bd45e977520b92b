/* transfer_call helpers: the bridge graph description (codecs,
 * transcoding, bad input, and that it builds with the plugin just built),
 * the model's arguments and the failure output. */

#include "bridge_graph.h"
#include "call_transfer.h"

#include <json-glib/json-glib.h>

#include <gst/gst.h>
#include <gtest/gtest.h>

using namespace voxbridge::launcher;

namespace {

struct TranscoderCase {
  const char *from;
  const char *to;
  bool valid;
  const char *elements;
};

class TranscoderTable : public ::testing::TestWithParam<TranscoderCase> {};

TEST_P (TranscoderTable, PicksTheElements)
{
  const TranscoderCase &c = GetParam ();
  auto elements = bridge_transcoder (c.from, c.to);
  ASSERT_EQ (elements.has_value (), c.valid);
  if (c.valid) {
    EXPECT_EQ (*elements, c.elements);
  }
}

INSTANTIATE_TEST_SUITE_P (Bridge, TranscoderTable, ::testing::Values (
    TranscoderCase {"PCMU", "PCMU", true, ""},
    TranscoderCase {"PCMA", "PCMA", true, ""},
    TranscoderCase {"pcmu", "PCMU", true, ""},
    TranscoderCase {"PCMU", "PCMA", true, "mulawdec ! alawenc"},
    TranscoderCase {"PCMA", "PCMU", true, "alawdec ! mulawenc"},
    TranscoderCase {"G729", "PCMU", false, ""},
    TranscoderCase {"PCMU", "", false, ""},
    TranscoderCase {"opus", "opus", false, ""}));

TEST (BridgeDescription, SameCodecPassesThrough)
{
  std::string error;
  auto description = bridge_pipeline_description ({"caller1", "PCMU"},
      {"target2", "PCMU"}, &error);
  ASSERT_TRUE (description) << error;
  EXPECT_EQ (*description,
      "siprtpsrc call-id=caller1 ! queue max-size-time=200000000 leaky=downstream ! "
      "siprtpsink call-id=target2  "
      "siprtpsrc call-id=target2 ! queue max-size-time=200000000 leaky=downstream ! "
      "siprtpsink call-id=caller1");
}

TEST (BridgeDescription, DifferentCodecsAreTranscodedBothWays)
{
  std::string error;
  auto description = bridge_pipeline_description ({"caller1", "PCMA"},
      {"target2", "PCMU"}, &error);
  ASSERT_TRUE (description) << error;
  EXPECT_NE (description->find ("call-id=caller1 ! queue max-size-time=200000000 "
      "leaky=downstream ! alawdec ! mulawenc ! siprtpsink call-id=target2"),
      std::string::npos) << *description;
  EXPECT_NE (description->find ("call-id=target2 ! queue max-size-time=200000000 "
      "leaky=downstream ! mulawdec ! alawenc ! siprtpsink call-id=caller1"),
      std::string::npos) << *description;
}

TEST (BridgeDescription, RefusesBadInput)
{
  const std::pair<BridgeLeg, BridgeLeg> bad[] = {
    {{"", "PCMU"}, {"b", "PCMU"}},
    {{"a b", "PCMU"}, {"b", "PCMU"}},
    {{"a ! fakesink", "PCMU"}, {"b", "PCMU"}},
    {{"a", "PCMU"}, {"b", "G722"}},
    {{"a", ""}, {"b", "PCMU"}},
    {{"same", "PCMU"}, {"same", "PCMU"}},
  };
  for (const auto & [a, b] : bad) {
    std::string error;
    EXPECT_FALSE (bridge_pipeline_description (a, b, &error)) << a.call_id << "/" << b.call_id;
    EXPECT_FALSE (error.empty ());
  }
}

/* Every element the descriptions name exists and links. */
TEST (BridgeDescription, Parses)
{
  gst_init (nullptr, nullptr);
  const std::pair<const char *, const char *> codecs[] = {
    {"PCMU", "PCMU"}, {"PCMU", "PCMA"}};
  for (const auto & [a, b] : codecs) {
    std::string error;
    auto description = bridge_pipeline_description ({"leg-a", a}, {"leg-b", b}, &error);
    ASSERT_TRUE (description) << error;
    GError *err = nullptr;
    GstElement *pipeline = gst_parse_launch (description->c_str (), &err);
    ASSERT_NE (pipeline, nullptr) << (err ? err->message : "") << " in " << *description;
    EXPECT_EQ (err, nullptr) << err->message;
    g_clear_error (&err);
    gst_object_unref (pipeline);
  }
}

TEST (TransferArguments, Reason)
{
  EXPECT_EQ (transfer_reason ("{\"reason\":\"billing question\"}"), "billing question");
  EXPECT_EQ (transfer_reason ("{}"), "");
  EXPECT_EQ (transfer_reason (""), "");
  EXPECT_EQ (transfer_reason ("not json"), "");
  EXPECT_EQ (transfer_reason ("[\"reason\"]"), "");
  EXPECT_EQ (transfer_reason ("{\"reason\":42}"), "");
  EXPECT_EQ (transfer_reason ("{\"reason\":{\"a\":1}}"), "");
}

TEST (TransferOutput, FailureIsJsonTheModelCanRead)
{
  const std::string output = CallTransfer::failure_output ("486 \"Busy\" Here");
  JsonNode *root = json_from_string (output.c_str (), nullptr);
  ASSERT_NE (root, nullptr) << output;
  ASSERT_TRUE (JSON_NODE_HOLDS_OBJECT (root));
  JsonObject *object = json_node_get_object (root);
  EXPECT_STREQ (json_object_get_string_member (object, "status"), "failed");
  EXPECT_NE (std::string (json_object_get_string_member (object, "error"))
      .find ("486 \"Busy\" Here"), std::string::npos);
  json_node_unref (root);
}

}  // namespace
