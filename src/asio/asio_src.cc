// Separate compilation units of Boost.Asio and Boost.Beast: compiled once here instead of in every
// file that includes them (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are
// set by keybridge_asio for every library that links it). No keybridge code lives here, so there
// is no asio_src_test.cc.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
