#pragma once
/* Pipeline description templates: gst-launch syntax with ${name} variables
 * and full-line # comments (format: launcher/CONFIG.md, "Pipeline files").
 *
 * Values are inserted so that they can never change the structure of the
 * pipeline: a variable that is a whole property value (name=${var}) is
 * written as one quoted, escaped gst-launch string that a string property
 * receives exactly; anywhere else the value may only hold characters that
 * have no meaning in gst-launch or caps syntax. */

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace voxbridge::launcher {

using PipelineVariables = std::map<std::string, std::string>;

/* A problem located in a pipeline file; line/column are 1-based, 0 when
 * unknown. */
struct PipelineError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  /* "pipelines/x.pipeline:3:17: unknown variable ${foo}" */
  std::string to_string () const;
};

struct RenderedPipeline {
  std::string file;
  std::string description;          /* ready for gst_parse_launch */
  /* Template line (1-based) of each line of @description, by index. */
  std::vector<int> template_lines;

  /* Template line of the byte at @offset of @description. */
  int template_line_at (size_t offset) const;
};

std::optional<RenderedPipeline> render_pipeline (const std::string & template_text,
    const std::string & file, const PipelineVariables & variables,
    PipelineError & error);

/* Reads @path and renders it. */
std::optional<RenderedPipeline> render_pipeline_file (const std::string & path,
    const PipelineVariables & variables, PipelineError & error);

/* Names of the ${variables} @template_text uses (comments excluded), in
 * order of first use. */
std::vector<std::string> pipeline_template_variables (const std::string & template_text);

}  // namespace voxbridge::launcher
