/* Finding a call graph's elements by the factory that made them. */
#include "graph_elements.h"

namespace voxbridge::launcher {

namespace {

/* Walks @bin until @visit returns false. */
template <typename Visit>
void
walk (GstElement * bin, const char *factory, Visit visit)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue item = G_VALUE_INIT;
  bool more = true;
  while (more && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *element = GST_ELEMENT (g_value_get_object (&item));
    GstElementFactory *made_by = gst_element_get_factory (element);
    if (made_by && g_str_equal (GST_OBJECT_NAME (made_by), factory))
      more = visit (element);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

}  // namespace

void
for_each_element_of_factory (GstElement * bin, const char *factory,
    const std::function<void (GstElement *)> & fn)
{
  walk (bin, factory, [&fn] (GstElement * element) {
    fn (element);
    return true;
  });
}

GstElement *
find_element_of_factory (GstElement * bin, const char *factory)
{
  GstElement *found = nullptr;
  walk (bin, factory, [&found] (GstElement * element) {
    found = GST_ELEMENT (gst_object_ref (element));
    return false;
  });
  return found;
}

}  // namespace voxbridge::launcher
