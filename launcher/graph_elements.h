#pragma once
/* Finding a call graph's elements by the factory that made them
 * (realtimesink, siprtpsrc, ...): pipeline descriptions name their elements
 * freely, so the daemon goes by kind. */

#include <gst/gst.h>

#include <functional>

namespace voxbridge::launcher {

/* Calls @fn for every element inside @bin, at any depth, made by @factory. */
void for_each_element_of_factory (GstElement * bin, const char *factory,
    const std::function<void (GstElement *)> & fn);

/* The first such element (a new reference), nullptr when there is none. */
GstElement *find_element_of_factory (GstElement * bin, const char *factory);

}  // namespace voxbridge::launcher
