#define BOOST_TEST_MODULE vireo_check
#include <boost/test/unit_test.hpp>
