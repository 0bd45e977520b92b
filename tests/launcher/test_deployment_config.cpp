#include <gtest/gtest.h>
#include "deployment_config.h"
TEST (Placeholder, Builds) {}
