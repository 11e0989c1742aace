/*
 * gpuvmctl: the command-line client of gpuvmd, in the style of xl.  Each
 * command builds one request, sends it over the control socket and prints
 * the reply; all protocol details are in control_proto.c.
 *
 * Exit status: 0 ok, 1 the daemon said no (or could not be reached, or an
 * isolation check failed), 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_proto.h"

#define EXIT_DAEMON 1
#define EXIT_USAGE 2
#define WANTS_HELP (-1)
#define REPLY_TIMEOUT_MS 60000  /* creating a big vGPU scrubs its VRAM first */
#define MIB (UINT64_C(1) << 20)

struct command {
	const char *name;
	const char *args;       /* usage after the command name */
	const char *help;
	int (*parse)(const struct command *cmd, int argc, char **argv, struct ctl_request *req);
	int (*print)(struct json_object *reply);
};

/* ---- Usage -------------------------------------------------------------------------- */

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gpuvmctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'gpuvmctl %s%s--help' for more information.\n",
		cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

static void command_usage(const struct command *cmd, FILE *f)
{
	fprintf(f, "Usage: gpuvmctl [--socket PATH] [--json] %s%s%s\n%s", cmd->name,
		cmd->args[0] ? " " : "", cmd->args, cmd->help);
}

/* ---- Argument parsing ------------------------------------------------------------------ */

static const struct option help_only_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The option getopt just refused: "-x" inside a cluster, or "--long". */
static const char *unknown_option(char **argv)
{
	static char shortopt[3] = "-?";

	if (!optopt)
		return argv[optind - 1];
	shortopt[1] = (char)optopt;
	return shortopt;
}

/* getopt's complaint about the option just seen. */
static int bad_option(const struct command *cmd, int c, char **argv)
{
	if (c == ':')
		return usage_error(cmd->name, "option '%s' needs a value", argv[optind - 1]);
	return usage_error(cmd->name, "unknown option '%s'", unknown_option(argv));
}

static int take_name(const struct command *cmd, const char *arg, struct ctl_request *req)
{
	char err[CTL_ERR_MAX];

	if (ctl_check_name(arg, err, sizeof(err)))
		return usage_error(cmd->name, "%s", err);
	snprintf(req->name, sizeof(req->name), "%s", arg);
	return 0;
}

/* Positional arguments left after the options: min..max of them, at most one (NAME). */
static int take_positionals(const struct command *cmd, int argc, char **argv, int min,
			    int max, struct ctl_request *req)
{
	int n = argc - optind;

	if (n < min)
		return usage_error(cmd->name, "%s needs a vGPU name", cmd->name);
	if (n > max)
		return usage_error(cmd->name, "unexpected argument '%s'", argv[optind + max]);
	return n ? take_name(cmd, argv[optind], req) : 0;
}

/* Commands whose only option is --help: NAME required (max 1, min 1), optional, or none. */
static int parse_simple(const struct command *cmd, int argc, char **argv, int min, int max,
			struct ctl_request *req)
{
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", help_only_opts, NULL)) != -1) {
		if (c == 'h')
			return WANTS_HELP;
		return bad_option(cmd, c, argv);
	}
	return take_positionals(cmd, argc, argv, min, max, req);
}

static int parse_name(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	return parse_simple(cmd, argc, argv, 1, 1, req);
}

static int parse_opt_name(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	return parse_simple(cmd, argc, argv, 0, 1, req);
}

static int parse_none(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	return parse_simple(cmd, argc, argv, 0, 0, req);
}

static int create_vram(const struct command *cmd, const char *arg, struct ctl_request *req)
{
	char err[CTL_ERR_MAX];

	if (ctl_parse_size(arg, &req->vram, err, sizeof(err)) ||
	    ctl_check_vram(req->vram, err, sizeof(err)))
		return usage_error(cmd->name, "%s", err);
	req->has_vram = true;
	return 0;
}

static int create_channels(const struct command *cmd, const char *arg, struct ctl_request *req)
{
	char err[CTL_ERR_MAX], *end;
	long long n;

	errno = 0;
	n = strtoll(arg, &end, 10);
	if (end == arg || *end || errno)
		return usage_error(cmd->name, "invalid channel count '%s'", arg);
	if (ctl_check_channels(n, err, sizeof(err)))
		return usage_error(cmd->name, "%s", err);
	req->channels = (unsigned)n;
	req->has_channels = true;
	return 0;
}

static int create_mode(const struct command *cmd, const char *arg, struct ctl_request *req)
{
	if (strlen(arg) >= sizeof(req->mode))
		return usage_error(cmd->name, "unknown mode '%s' (expected full, pv-naive or pv)", arg);
	snprintf(req->mode, sizeof(req->mode), "%s", arg);
	req->has_mode = true;
	return 0;
}

static const struct option create_opts[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "vram", required_argument, NULL, 'v' },
	{ "channels", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_create(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:v:c:h", create_opts, NULL)) != -1) {
		switch (c) {
		case 'm': r = create_mode(cmd, optarg, req); break;
		case 'v': r = create_vram(cmd, optarg, req); break;
		case 'c': r = create_channels(cmd, optarg, req); break;
		case 'h': return WANTS_HELP;
		default: return bad_option(cmd, c, argv);
		}
		if (r)
			return r;
	}
	return take_positionals(cmd, argc, argv, 1, 1, req);
}

/* ---- Printing replies ----------------------------------------------------------------------- */

static int print_nothing(struct json_object *reply)
{
	(void)reply;
	return 0;
}

static int print_created(struct json_object *reply)
{
	struct json_object *v;

	if (!json_object_object_get_ex(reply, "vgpu", &v))
		return 0;
	printf("created vGPU '%s': id %" PRIu64 ", mode %s, %" PRIu64 " MiB VRAM, %" PRIu64
	       " channels\n", ctl_json_str(v, "name") ? ctl_json_str(v, "name") : "?",
	       ctl_json_u64(v, "id"), ctl_json_str(v, "mode") ? ctl_json_str(v, "mode") : "?",
	       ctl_json_u64(v, "vram_size") / MIB, ctl_json_u64(v, "channels"));
	return 0;
}

static int print_version(struct json_object *reply)
{
	printf("gpuvmd control protocol %" PRIu64 " (gpuvmctl speaks %d)\n",
	       ctl_json_u64(reply, "protocol"), CTL_PROTOCOL_VERSION);
	return 0;
}

static void print_list_row(const struct vgpu_info *i, const char *mode)
{
	printf("%-31s %4u %-8s %9" PRIu64 " %5u %5u %-8s %10" PRIu64 " %8" PRIu64 " %7" PRIu64 "\n",
	       i->name, i->id, mode, i->vram_size / MIB, i->channels, i->channels_bound,
	       i->attached ? "yes" : "no", i->mmio_reads + i->mmio_writes, i->denied, i->faults);
}

static void print_host_line(struct json_object *reply)
{
	struct json_object *h;

	if (!json_object_object_get_ex(reply, "host", &h))
		return;
	printf("Host VRAM: %" PRIu64 " MiB free of %" PRIu64 " MiB (largest free range %"
	       PRIu64 " MiB)\n", ctl_json_u64(h, "vram_free") / MIB,
	       ctl_json_u64(h, "vram_total") / MIB, ctl_json_u64(h, "vram_largest_free") / MIB);
}

static int print_list(struct json_object *reply)
{
	struct json_object *arr;
	char err[CTL_ERR_MAX], mode[CTL_MODE_MAX];

	if (!json_object_object_get_ex(reply, "vgpus", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		fprintf(stderr, "gpuvmctl: malformed reply from gpuvmd: no vgpus array\n");
		return EXIT_DAEMON;
	}
	printf("%-31s %4s %-8s %9s %5s %5s %-8s %10s %8s %7s\n", "Name", "ID", "Mode",
	       "VRAM(MiB)", "Chans", "Bound", "Attached", "Traps", "Denied", "Faults");
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		struct vgpu_info info;

		if (ctl_info_from_json(json_object_array_get_idx(arr, k), &info, mode, sizeof(mode),
				       err, sizeof(err))) {
			fprintf(stderr, "gpuvmctl: malformed reply from gpuvmd: %s\n", err);
			return EXIT_DAEMON;
		}
		print_list_row(&info, mode);
	}
	print_host_line(reply);
	return 0;
}

/* "key:" padded so that values line up (longer keys just get one space). */
static void print_kv(const char *key, const char *value)
{
	int pad = 15 - (int)strlen(key);

	printf("%s:%*s %s\n", key, pad > 0 ? pad - 1 : 0, "", value);
}

static int print_info(struct json_object *reply)
{
	struct json_object *v;
	char hex[32];

	if (!json_object_object_get_ex(reply, "vgpu", &v) ||
	    !json_object_is_type(v, json_type_object)) {
		fprintf(stderr, "gpuvmctl: malformed reply from gpuvmd: no vgpu object\n");
		return EXIT_DAEMON;
	}
	/* In the daemon's order, so new counters show up without a client change. */
	json_object_object_foreach(v, key, val) {
		if (!strcmp(key, "vram_base")) {
			snprintf(hex, sizeof(hex), "0x%" PRIx64, ctl_json_u64(v, key));
			print_kv(key, hex);
		} else if (json_object_is_type(val, json_type_boolean)) {
			print_kv(key, json_object_get_boolean(val) ? "yes" : "no");
		} else {
			print_kv(key, json_object_get_string(val));
		}
	}
	return 0;
}

static int print_check(struct json_object *reply)
{
	struct json_object *arr;

	if (json_object_object_get_ex(reply, "checks", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *e = json_object_array_get_idx(arr, k);
			const char *name = ctl_json_str(e, "name");
			const char *details = ctl_json_str(e, "details");

			if (ctl_json_bool(e, "isolated"))
				printf("%s: isolated\n", name ? name : "host");
			else
				printf("%s: NOT ISOLATED: %s\n", name ? name : "host",
				       details ? details : "");
		}
	}
	if (ctl_json_bool(reply, "isolated"))
		return 0;
	fprintf(stderr, "gpuvmctl: isolation check failed\n");
	return EXIT_DAEMON;
}

static const struct command commands[] = {
	{ "create", "NAME [--mode MODE] [--vram SIZE] [--channels N]",
	  "Create a vGPU.\n"
	  "  -m, --mode MODE      full (default); pv-naive and pv are not available yet\n"
	  "  -v, --vram SIZE      VRAM partition, a multiple of 16M, e.g. 256M (default) or 1G\n"
	  "  -c, --channels N     GPU channels the VM may use, 1..64 (default 8)\n",
	  parse_create, print_created },
	{ "destroy", "NAME", "Destroy a vGPU: its guest is dropped, its channels stopped and\n"
	  "its VRAM scrubbed and freed.\n", parse_name, print_nothing },
	{ "reset", "NAME", "Reset a vGPU to its power-on state (channels stopped, VRAM scrubbed).\n",
	  parse_name, print_nothing },
	{ "list", "", "List the vGPUs (Traps: trapped MMIO accesses; Denied: accesses\n"
	  "refused) and the host's free VRAM.\n", parse_none, print_list },
	{ "info", "NAME", "Show everything gpuvmd knows about a vGPU, one 'key: value' per line.\n",
	  parse_name, print_info },
	{ "check", "[NAME]", "Run the isolation checker on one vGPU, or on the host and every vGPU.\n"
	  "Exits 1 if isolation does not hold.\n", parse_opt_name, print_check },
	{ "version", "", "Show the daemon's control protocol version.\n", parse_none, print_version },
	{ "shutdown", "", "Ask gpuvmd to destroy every vGPU and exit.\n", parse_none, print_nothing },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: gpuvmctl [--socket PATH] [--json] COMMAND [ARGS]\n"
		"Manage the vGPUs of gpuvmd.\n\n"
		"  -s, --socket PATH   gpuvmd's control socket (default: $%s or %s)\n"
		"  -j, --json          print the daemon's raw JSON reply\n"
		"  -h, --help          show this help\n\nCommands:\n",
		CTL_SOCKET_ENV, CTL_DEFAULT_SOCKET);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s%s%s\n", commands[i].name, commands[i].args[0] ? " " : "",
			commands[i].args);
	fprintf(f, "\n'gpuvmctl COMMAND --help' describes a command.  Exit status: 0 ok,\n"
		"1 gpuvmd reported an error, 2 bad usage.\n");
}

/* ---- Talking to the daemon -------------------------------------------------------------- */

/* Send req, print the reply.  The exit code. */
static int call_daemon(const char *socket_path, bool json, const struct command *cmd,
		       const struct ctl_request *req)
{
	char err[CTL_ERR_MAX];
	char *line = ctl_request_encode(req), *reply_line = NULL;
	struct json_object *reply = NULL;
	int fd = -1, r = EXIT_DAEMON;

	if (!line) {
		fprintf(stderr, "gpuvmctl: out of memory\n");
		return EXIT_DAEMON;
	}
	fd = ctl_client_connect(socket_path, err, sizeof(err));
	if (fd < 0 || ctl_client_call(fd, line, &reply_line, REPLY_TIMEOUT_MS, err, sizeof(err)))
		goto fail;
	if (json)
		printf("%s\n", reply_line);
	if (ctl_reply_parse(reply_line, strlen(reply_line), &reply, err, sizeof(err)))
		goto fail;
	r = json ? 0 : cmd->print(reply);
	goto out;
fail:
	fprintf(stderr, "gpuvmctl: %s\n", err);
out:
	json_object_put(reply);
	free(reply_line);
	free(line);
	if (fd >= 0)
		close(fd);
	return r;
}

static const struct option global_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct globals {
	const char *socket_path;
	bool json;
};

/* Options before the command ("+": stop at the first non-option).  0, WANTS_HELP, EXIT_USAGE. */
static int parse_globals(int argc, char **argv, struct globals *g)
{
	int c;

	g->socket_path = ctl_default_socket();
	g->json = false;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:s:jh", global_opts, NULL)) != -1) {
		switch (c) {
		case 's': g->socket_path = optarg; break;
		case 'j': g->json = true; break;
		case 'h': return WANTS_HELP;
		case ':': return usage_error(NULL, "option '%s' needs a value", argv[optind - 1]);
		default: return usage_error(NULL, "unknown option '%s'", unknown_option(argv));
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "no command given");
	return 0;
}

int main(int argc, char **argv)
{
	struct globals g;
	struct ctl_request req;
	const struct command *cmd;
	int r = parse_globals(argc, argv, &g);
	int first;

	if (r == WANTS_HELP) {
		usage(stdout);
		return 0;
	}
	if (r)
		return r;
	first = optind;
	cmd = command_find(argv[first]);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[first]);
	ctl_request_init(&req, (enum ctl_op)ctl_op_parse(cmd->name));
	r = cmd->parse(cmd, argc - first, argv + first, &req);
	if (r == WANTS_HELP) {
		command_usage(cmd, stdout);
		return 0;
	}
	if (r)
		return r;
	r = call_daemon(g.socket_path, g.json, cmd, &req);
	fflush(stdout);
	return r;
}
