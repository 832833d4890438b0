// Cyrus SASL (libsasl2-dev) for the optional `auth_backends.N = sasl` password backend.
#include <sasl/sasl.h>
