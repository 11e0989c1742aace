/*
 * Shared by the test programs that talk to a running gpuvmd: one control
 * request over its socket.  Linked into every test (tests/common/).
 */
#ifndef GPUVM_TEST_CTL_CALL_H
#define GPUVM_TEST_CTL_CALL_H

#include <stddef.h>

#include <json-c/json.h>

#include "control_proto.h"

/*
 * Send req to the control socket at sock and parse the reply.  The reply
 * object (caller puts), or NULL with gpuvmd's refusal in err.  A socket that
 * does not answer fails the test.
 */
struct json_object *test_ctl_call(const char *sock, const struct ctl_request *req, char *err,
				  size_t errlen);

#endif
