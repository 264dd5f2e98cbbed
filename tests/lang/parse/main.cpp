// The test_parse executable (Boost.Test); the cases live in the other files.
#define BOOST_TEST_MODULE vireo_parse
#include <boost/test/unit_test.hpp>
