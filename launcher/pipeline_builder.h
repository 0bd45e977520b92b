#pragma once
/* Builds a GStreamer pipeline from a rendered description and reports parse
 * errors against the pipeline file they come from. */

#include <gst/gst.h>

#include "pipeline_template.h"

namespace voxbridge::launcher {

struct PipelineBuildError : PipelineError {
  GQuark domain = 0;
  int code = 0;                              /* a GstParseError when domain is GST_PARSE_ERROR */
  std::vector<std::string> missing_elements; /* factories that are not installed */
};

/* Returns a new GstPipeline (a full reference, not floating) or nullptr
 * with @error filled; line is that of the template when it can be found. */
GstElement *build_pipeline (const RenderedPipeline & rendered, PipelineBuildError & error);

/* Byte offset in @description of the first element at or after @from named
 * @name (by name=) or, failing that, created from factory @name minus a
 * trailing instance number ("queue3" -> "queue"); npos when not found.
 * Instance numbers count process-wide, so they cannot pick among several
 * elements of one factory. */
size_t find_element_in_description (const std::string & description,
    const std::string & name, size_t from = 0);

/* Factory names of the elements @description creates (the first word and
 * each word after '!', leaving out caps and pad references), in order. */
std::vector<std::string> pipeline_element_factories (const std::string & description);

/* The factories of pipeline_element_factories() that are not registered. */
std::vector<std::string> missing_element_factories (const std::string & description);

}  // namespace voxbridge::launcher
