#define BOOST_TEST_MODULE vireo_ad
#include <boost/test/unit_test.hpp>
