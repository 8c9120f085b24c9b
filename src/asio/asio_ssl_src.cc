// Asio's TLS support, compiled once (BOOST_ASIO_SEPARATE_COMPILATION; the rest of Asio and Beast
// is compiled in asio_src.cc). Only git-proxy makes TLS connections through Asio; every other
// outbound request goes through libcurl (net/).
#include <boost/asio/ssl/impl/src.hpp>
