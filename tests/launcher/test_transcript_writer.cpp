/* AtomicFile and TranscriptWriter: nothing under the final name until
 * commit, JSON lines with both speakers, errors reported. */

#include <glib/gstdio.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <fstream>
#include <sstream>

#include "atomic_file.h"
#include "transcript_writer.h"

using namespace voxbridge::launcher;

namespace {

std::string
temp_dir ()
{
  gchar *dir = g_dir_make_tmp ("transcript-XXXXXX", nullptr);
  std::string out (dir);
  g_free (dir);
  return out;
}

std::string
read_all (const std::string & path)
{
  std::ifstream in (path);
  std::stringstream s;
  s << in.rdbuf ();
  return s.str ();
}

bool
exists (const std::string & path)
{
  return g_file_test (path.c_str (), G_FILE_TEST_EXISTS);
}

}  // namespace

TEST (AtomicFile, AppearsUnderItsNameOnlyOnCommit)
{
  const std::string path = temp_dir () + "/out.txt";
  std::string error;
  auto file = AtomicFile::create (path, error);
  ASSERT_TRUE (file) << error;
  EXPECT_EQ (file->part_path (), path + ".part");
  ASSERT_TRUE (file->write ("hello ", error)) << error;
  ASSERT_TRUE (file->write ("world\n", error)) << error;
  EXPECT_EQ (file->bytes (), 12u);
  EXPECT_FALSE (exists (path));
  EXPECT_TRUE (exists (path + ".part"));
  ASSERT_TRUE (file->commit (error)) << error;
  EXPECT_TRUE (file->committed ());
  EXPECT_TRUE (exists (path));
  EXPECT_FALSE (exists (path + ".part"));
  EXPECT_EQ (read_all (path), "hello world\n");
  EXPECT_TRUE (file->commit (error));   /* twice is harmless */
}

TEST (AtomicFile, UncommittedLeavesOnlyThePart)
{
  const std::string path = temp_dir () + "/abandoned.txt";
  std::string error;
  {
    auto file = AtomicFile::create (path, error);
    ASSERT_TRUE (file) << error;
    ASSERT_TRUE (file->write ("half", error));
  }
  EXPECT_FALSE (exists (path));
  EXPECT_EQ (read_all (path + ".part"), "half");
}

TEST (AtomicFile, UncreatableIsAnError)
{
  std::string error;
  auto file = AtomicFile::create (temp_dir () + "/no/such/dir/x", error);
  EXPECT_FALSE (file);
  EXPECT_NE (error.find ("could not create"), std::string::npos) << error;
}

TEST (TranscriptWriter, LineJson)
{
  TranscriptLine line;
  line.speaker = "caller";
  line.text = "I need \"help\"\nnow";
  line.item_id = "item_1";
  line.start_s = 1.25049;
  line.end_s = 2.9;
  line.start_wall_us = G_GINT64_CONSTANT (1740830401250000);   /* 2025-03-01T12:00:01.250Z */
  EXPECT_EQ (transcript_line_json (line),
      "{\"speaker\":\"caller\",\"text\":\"I need \\\"help\\\"\\nnow\",\"item_id\":\"item_1\","
      "\"start_ms\":1250,\"end_ms\":2900,\"time\":\"2025-03-01T12:00:01.250Z\"}");
}

TEST (TranscriptWriter, WritesJsonLinesAndFinishesAtomically)
{
  const std::string path = temp_dir () + "/call.transcript.jsonl";
  std::string error;
  auto writer = TranscriptWriter::create (path, error);
  ASSERT_TRUE (writer) << error;
  TranscriptLine caller {"caller", "Where is my order?", "item_a", 0.5, 1.8, 1000000};
  TranscriptLine ai {"ai", "It ships today.", "item_b", 2.0, 3.1, 2500000};
  ASSERT_TRUE (writer->add (caller, error)) << error;
  ASSERT_TRUE (writer->add (ai, error)) << error;
  EXPECT_EQ (writer->lines (), 2u);
  EXPECT_FALSE (exists (path));
  ASSERT_TRUE (writer->finish (error)) << error;
  ASSERT_TRUE (exists (path));

  std::istringstream in (read_all (path));
  std::string text;
  std::vector<std::string> speakers;
  while (std::getline (in, text)) {
    JsonParser *parser = json_parser_new ();
    ASSERT_TRUE (json_parser_load_from_data (parser, text.c_str (), -1, nullptr)) << text;
    JsonObject *o = json_node_get_object (json_parser_get_root (parser));
    speakers.push_back (json_object_get_string_member (o, "speaker"));
    EXPECT_GE (json_object_get_int_member (o, "end_ms"),
        json_object_get_int_member (o, "start_ms"));
    g_object_unref (parser);
  }
  EXPECT_EQ (speakers, (std::vector<std::string> {"caller", "ai"}));
  EXPECT_EQ (writer->bytes (), read_all (path).size ());
}
