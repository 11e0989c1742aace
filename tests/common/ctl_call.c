/* One control request to a running gpuvmd: see ctl_call.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_call.h"

struct json_object *test_ctl_call(const char *sock, const struct ctl_request *req, char *err,
				  size_t errlen)
{
	char *line = ctl_request_encode(req), *reply = NULL;
	struct json_object *obj = NULL;
	int fd = ctl_client_connect(sock, err, errlen);

	assert_non_null(line);
	assert_true(fd >= 0);
	if (ctl_client_call(fd, line, &reply, 10000, err, errlen))
		fail_msg("control call: %s", err);
	if (ctl_reply_parse(reply, strlen(reply), &obj, err, errlen) != 0)
		obj = NULL;
	free(reply);
	free(line);
	close(fd);
	return obj;
}
