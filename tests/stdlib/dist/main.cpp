// The test module of stdlib/dist (one executable; cases in the other files).
#define BOOST_TEST_MODULE vireo_dist
#include <boost/test/unit_test.hpp>
