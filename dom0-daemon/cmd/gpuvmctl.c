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
#include <time.h>
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
	/* Talks to the daemon itself (top); NULL: one request, one printed reply. */
	int (*run)(const char *socket_path, bool json, const struct command *cmd,
		   const struct ctl_request *req);
	const char *op;         /* the request's op; NULL: the command's name */
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

/* --[no-]lazy, --[no-]remap: the full-virtualisation optimisations (set-mode and create). */
static void take_opt_switch(int c, struct ctl_request *req)
{
	if (c == 'L' || c == 'l') {
		req->has_opt_lazy = true;
		req->opt_lazy = c == 'L';
	} else {
		req->has_opt_remap = true;
		req->opt_remap = c == 'R';
	}
}

/* set-mode NAME MODE [--lazy|--no-lazy] [--remap|--no-remap] */
static int parse_set_mode(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "no-lazy", no_argument, NULL, 'l' },
		{ "remap", no_argument, NULL, 'R' },
		{ "no-remap", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return WANTS_HELP;
		if (c == 'L' || c == 'l' || c == 'R' || c == 'r')
			take_opt_switch(c, req);
		else
			return bad_option(cmd, c, argv);
	}
	if (argc - optind != 2)
		return usage_error(cmd->name, "%s needs a vGPU name and a mode", cmd->name);
	c = take_name(cmd, argv[optind], req);
	return c ? c : create_mode(cmd, argv[optind + 1], req);
}

/* A decimal integer option value; usage error naming what otherwise. */
static int int_arg(const struct command *cmd, const char *what, const char *arg, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(arg, &end, 10);
	if (end == arg || *end || errno)
		return usage_error(cmd->name, "invalid %s '%s'", what, arg);
	return 0;
}

/* --weight (weight true) or --cap: parsed, range-checked as gpuvmd would. */
static int sched_share(const struct command *cmd, bool weight, const char *arg,
		       struct ctl_request *req)
{
	char err[CTL_ERR_MAX];
	long long v;

	if (int_arg(cmd, weight ? "weight" : "cap", arg, &v))
		return EXIT_USAGE;
	if ((weight ? ctl_check_weight : ctl_check_cap)(v, err, sizeof(err)))
		return usage_error(cmd->name, "%s", err);
	if (weight) {
		req->weight = (unsigned)v;
		req->has_weight = true;
	} else {
		req->cap = (unsigned)v;
		req->has_cap = true;
	}
	return 0;
}

/* --period-ms, --tick-ms, --tslice-ms: which is 'p', 'k' or 't'. */
static int sched_ms(const struct command *cmd, int which, const char *arg, struct ctl_request *req)
{
	const char *what = which == 'p' ? "period_ms" : which == 'k' ? "tick_ms" : "tslice_ms";
	long long max = which == 'p' ? CTL_PERIOD_MS_MAX : which == 'k' ? CTL_TICK_MS_MAX
					 : CTL_TSLICE_MS_MAX;
	char err[CTL_ERR_MAX];
	long long v;

	if (int_arg(cmd, what, arg, &v))
		return EXIT_USAGE;
	if (ctl_check_ms(what, v, max, err, sizeof(err)))
		return usage_error(cmd->name, "%s", err);
	if (which == 'p') {
		req->period_ms = (unsigned)v;
		req->has_period = true;
	} else if (which == 'k') {
		req->tick_ms = (unsigned)v;
		req->has_tick = true;
	} else {
		req->tslice_ms = (unsigned)v;
		req->has_tslice = true;
	}
	return 0;
}

enum { OPT_CAP = 0x100 };

static const struct option create_opts[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "vram", required_argument, NULL, 'v' },
	{ "channels", required_argument, NULL, 'c' },
	{ "weight", required_argument, NULL, 'w' },
	{ "cap", required_argument, NULL, OPT_CAP },
	{ "lazy", no_argument, NULL, 'L' },
	{ "no-lazy", no_argument, NULL, 'l' },
	{ "remap", no_argument, NULL, 'R' },
	{ "no-remap", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_create(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:v:c:w:h", create_opts, NULL)) != -1) {
		switch (c) {
		case 'm': r = create_mode(cmd, optarg, req); break;
		case 'v': r = create_vram(cmd, optarg, req); break;
		case 'c': r = create_channels(cmd, optarg, req); break;
		case 'w': r = sched_share(cmd, true, optarg, req); break;
		case OPT_CAP: r = sched_share(cmd, false, optarg, req); break;
		case 'L': case 'l': case 'R': case 'r': take_opt_switch(c, req); r = 0; break;
		case 'h': return WANTS_HELP;
		default: return bad_option(cmd, c, argv);
		}
		if (r)
			return r;
	}
	return take_positionals(cmd, argc, argv, 1, 1, req);
}

/* attach DOMAIN / detach DOMAIN: the one positional is a Xen domain name or id. */
static int take_domain(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	if (argc - optind != 1)
		return usage_error(cmd->name, "expected one DOMAIN (a domain name or id)");
	if (!argv[optind][0] || strlen(argv[optind]) >= sizeof(req->domain))
		return usage_error(cmd->name, "DOMAIN must be 1 to %zu characters",
				   sizeof(req->domain) - 1);
	snprintf(req->domain, sizeof(req->domain), "%s", argv[optind]);
	return 0;
}

static const struct option attach_opts[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "vram", required_argument, NULL, 'v' },
	{ "channels", required_argument, NULL, 'c' },
	{ "bdf", required_argument, NULL, 'b' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_attach(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	int c, r = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:v:c:b:h", attach_opts, NULL)) != -1) {
		switch (c) {
		case 'm': r = create_mode(cmd, optarg, req); break;
		case 'v': r = create_vram(cmd, optarg, req); break;
		case 'c': r = create_channels(cmd, optarg, req); break;
		case 'b':
			if (!optarg[0] || strlen(optarg) >= sizeof(req->bdf))
				return usage_error(cmd->name, "invalid PCI address '%s' "
						   "(expected BB:DD.F, e.g. 00:03.0)", optarg);
			snprintf(req->bdf, sizeof(req->bdf), "%s", optarg);
			req->has_bdf = true;
			break;
		case 'h': return WANTS_HELP;
		default: return bad_option(cmd, c, argv);
		}
		if (r)
			return r;
	}
	return take_domain(cmd, argc, argv, req);
}

static int parse_detach(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", help_only_opts, NULL)) != -1) {
		if (c == 'h')
			return WANTS_HELP;
		return bad_option(cmd, c, argv);
	}
	return take_domain(cmd, argc, argv, req);
}

static const struct option sched_opts[] = {
	{ "period-ms", required_argument, NULL, 'p' },
	{ "tick-ms", required_argument, NULL, 'k' },
	{ "tslice-ms", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* sched [POLICY] [--period-ms N] [--tick-ms N] [--tslice-ms N] */
static int parse_sched(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	char err[CTL_ERR_MAX];
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:k:t:h", sched_opts, NULL)) != -1) {
		if (c == 'h')
			return WANTS_HELP;
		if (c != 'p' && c != 'k' && c != 't')
			return bad_option(cmd, c, argv);
		r = sched_ms(cmd, c, optarg, req);
		if (r)
			return r;
	}
	if (req->has_tick && req->has_period && req->tick_ms > req->period_ms)
		return usage_error(cmd->name, "--tick-ms must not exceed --period-ms");
	if (argc - optind > 1)
		return usage_error(cmd->name, "unexpected argument '%s'", argv[optind + 1]);
	if (argc - optind == 1) {
		if (ctl_check_policy(argv[optind], err, sizeof(err)))
			return usage_error(cmd->name, "%s", err);
		snprintf(req->policy, sizeof(req->policy), "%s", argv[optind]);
		req->has_policy = true;
	}
	return 0;
}

static const struct option sched_credit_opts[] = {
	{ "domain", required_argument, NULL, 'd' },
	{ "weight", required_argument, NULL, 'w' },
	{ "cap", required_argument, NULL, 'c' },
	{ "tslice-ms", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Whether sched-credit only shows (then it prints the table) or sets. */
static bool sched_credit_sets;

/* sched-credit [-d NAME] [-w WEIGHT] [-c CAP] [-t TSLICE_MS], like xl sched-credit. */
static int parse_sched_credit(const struct command *cmd, int argc, char **argv,
			      struct ctl_request *req)
{
	int c, r;

	sched_credit_sets = false;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:w:c:t:h", sched_credit_opts, NULL)) != -1) {
		switch (c) {
		case 'd': r = take_name(cmd, optarg, req); break;
		case 'w': r = sched_share(cmd, true, optarg, req); break;
		case 'c': r = sched_share(cmd, false, optarg, req); break;
		case 't': r = sched_ms(cmd, 't', optarg, req); break;
		case 'h': return WANTS_HELP;
		default: return bad_option(cmd, c, argv);
		}
		if (r)
			return r;
	}
	if (optind < argc)
		return usage_error(cmd->name, "unexpected argument '%s'", argv[optind]);
	if ((req->has_weight || req->has_cap) && !req->name[0])
		return usage_error(cmd->name, "-w and -c need a vGPU: -d NAME");
	sched_credit_sets = req->has_weight || req->has_cap || req->has_tslice;
	return 0;
}

/* stats --json, as the global --json. */
static bool stats_json;

static const struct option stats_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_stats(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	int c;

	stats_json = false;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", stats_opts, NULL)) != -1) {
		if (c == 'h')
			return WANTS_HELP;
		if (c != 'j')
			return bad_option(cmd, c, argv);
		stats_json = true;
	}
	return take_positionals(cmd, argc, argv, 0, 1, req);
}

/* top's refresh: frames (0 = until interrupted) and the time between them. */
static struct {
	unsigned long iterations;
	double delay;
} top_opt = { 0, 1.0 };

static const struct option top_opts[] = {
	{ "iterations", required_argument, NULL, 'n' },
	{ "delay", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_top(const struct command *cmd, int argc, char **argv, struct ctl_request *req)
{
	long long n;
	char *end;
	int c;

	top_opt.iterations = 0;
	top_opt.delay = 1.0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:d:h", top_opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (int_arg(cmd, "number of iterations", optarg, &n))
				return EXIT_USAGE;
			if (n < 1)
				return usage_error(cmd->name, "iterations must be at least 1 (got %lld)", n);
			top_opt.iterations = (unsigned long)n;
			break;
		case 'd':
			errno = 0;
			top_opt.delay = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(top_opt.delay >= 0.05) ||
			    top_opt.delay > 3600)
				return usage_error(cmd->name, "invalid delay '%s' (seconds, 0.05..3600)",
						   optarg);
			break;
		case 'h':
			return WANTS_HELP;
		default:
			return bad_option(cmd, c, argv);
		}
	}
	return take_positionals(cmd, argc, argv, 0, 0, req);
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

static int print_set_mode(struct json_object *reply)
{
	struct json_object *v;
	const char *mode, *pending;

	if (!json_object_object_get_ex(reply, "vgpu", &v) ||
	    !(mode = ctl_json_str(v, "mode")) || !(pending = ctl_json_str(v, "pending_mode"))) {
		fprintf(stderr, "gpuvmctl: malformed reply from gpuvmd: no vgpu object\n");
		return EXIT_DAEMON;
	}
	if (!strcmp(mode, pending))
		printf("vGPU '%s': mode %s\n", ctl_json_str(v, "name"), mode);
	else
		printf("vGPU '%s': mode %s, %s at its next quiescent point\n", ctl_json_str(v, "name"),
		       mode, pending);
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

/* A duration in ns as milliseconds: "10 ms", or "0.250 ms" when not whole. */
static const char *fmt_ms(uint64_t ns, char *buf, size_t len)
{
	if (ns % 1000000 == 0)
		snprintf(buf, len, "%" PRIu64 " ms", ns / 1000000);
	else
		snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	return buf;
}

static int print_sched(struct json_object *reply)
{
	struct json_object *arr;
	char buf[32];

	printf("policy:   %s\n", ctl_json_str(reply, "policy") ? ctl_json_str(reply, "policy") : "?");
	printf("period:   %s\n", fmt_ms(ctl_json_u64(reply, "period_ns"), buf, sizeof(buf)));
	printf("tick:     %s\n", fmt_ms(ctl_json_u64(reply, "tick_ns"), buf, sizeof(buf)));
	printf("tslice:   %s\n", fmt_ms(ctl_json_u64(reply, "tslice_ns"), buf, sizeof(buf)));
	printf("policies:");
	if (json_object_object_get_ex(reply, "policies", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (size_t k = 0; k < json_object_array_length(arr); k++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(arr, k)));
	printf("\n");
	return 0;
}

/* Like xl sched-credit: the global line, then Name / ID / Weight / Cap. */
static int print_sched_credit(struct json_object *reply)
{
	struct json_object *arr;
	char t[32], p[32];

	if (sched_credit_sets)
		return 0;
	if (!json_object_object_get_ex(reply, "vgpus", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		fprintf(stderr, "gpuvmctl: malformed reply from gpuvmd: no vgpus array\n");
		return EXIT_DAEMON;
	}
	printf("Scheduler %s: tslice=%s period=%s\n",
	       ctl_json_str(reply, "policy") ? ctl_json_str(reply, "policy") : "?",
	       fmt_ms(ctl_json_u64(reply, "tslice_ns"), t, sizeof(t)),
	       fmt_ms(ctl_json_u64(reply, "period_ns"), p, sizeof(p)));
	printf("%-31s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		struct json_object *e = json_object_array_get_idx(arr, k);

		printf("%-31s %4" PRIu64 " %6" PRIu64 " %4" PRIu64 "\n",
		       ctl_json_str(e, "name") ? ctl_json_str(e, "name") : "?", ctl_json_u64(e, "id"),
		       ctl_json_u64(e, "weight"), ctl_json_u64(e, "cap"));
	}
	return 0;
}

static double json_num(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return 0;
	return json_object_get_double(v);
}

/* What one frame of top remembers for the next: GPU time per vGPU name. */
#define TOP_MAX_VGPUS 128
struct top_prev {
	bool valid;
	uint64_t uptime_ns, busy_ns;
	unsigned n;
	struct {
		char name[VGPU_NAME_MAX];
		uint64_t gpu_ns;
	} vm[TOP_MAX_VGPUS];
};

static bool prev_gpu_ns(const struct top_prev *prev, const char *name, uint64_t *ns)
{
	for (unsigned i = 0; prev && prev->valid && i < prev->n; i++)
		if (!strcmp(prev->vm[i].name, name)) {
			*ns = prev->vm[i].gpu_ns;
			return true;
		}
	return false;
}

static void print_stats_header(struct json_object *g, const struct top_prev *prev)
{
	uint64_t up = ctl_json_u64(g, "uptime_ns"), busy = ctl_json_u64(g, "busy_ns");
	bool delta = prev && prev->valid && up > prev->uptime_ns;
	double util = delta ? (double)(busy - prev->busy_ns) / (double)(up - prev->uptime_ns)
			    : json_num(g, "utilization");
	char t[32];

	printf("gpuvmd: policy %s, tslice %s | uptime %.1f s | GPU busy %.1f%% (%s) | "
	       "%" PRIu64 " decisions, %.2f us/decision, %.2f us/release\n",
	       ctl_json_str(g, "policy") ? ctl_json_str(g, "policy") : "?",
	       fmt_ms(ctl_json_u64(g, "tslice_ns"), t, sizeof(t)), (double)up / 1e9, util * 100,
	       delta ? "since last frame" : "since start", ctl_json_u64(g, "decisions"),
	       json_num(g, "ns_per_decision") / 1e3, json_num(g, "ns_per_release") / 1e3);
}

/*
 * One table of the stats reply: GPU% is the vGPU's GPU time over the wall
 * time since the previous frame (since the scheduler started, without one);
 * 100ms% and 1s% are the daemon's sliding windows.
 */
static int print_stats_frame(struct json_object *reply, struct top_prev *prev)
{
	static struct top_prev next;
	struct json_object *g, *arr;
	uint64_t up;

	if (!json_object_object_get_ex(reply, "sched", &g) ||
	    !json_object_object_get_ex(reply, "vgpus", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		fprintf(stderr, "gpuvmctl: malformed reply from gpuvmd: no sched or vgpus\n");
		return EXIT_DAEMON;
	}
	up = ctl_json_u64(g, "uptime_ns");
	next.n = 0;
	print_stats_header(g, prev);
	printf("%-20s %4s %6s %4s %9s %6s %6s %6s %5s %5s %9s %9s %8s %9s %10s\n", "NAME", "ID",
	       "WEIGHT", "CAP", "GPU(s)", "GPU%", "100ms%", "1s%", "QUEUE", "INFL", "SUBMITS",
	       "RELEASES", "WAITS", "WAIT(ms)", "CREDIT(ms)");
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		struct json_object *e = json_object_array_get_idx(arr, k);
		const char *name = ctl_json_str(e, "name") ? ctl_json_str(e, "name") : "?";
		uint64_t gpu = ctl_json_u64(e, "gpu_ns"), before = 0;
		double share = up ? (double)gpu / (double)up : 0;
		struct json_object *cr;
		int64_t credit = 0;

		if (prev_gpu_ns(prev, name, &before) && up > prev->uptime_ns && gpu >= before)
			share = (double)(gpu - before) / (double)(up - prev->uptime_ns);
		if (json_object_object_get_ex(e, "credit_ns", &cr))
			credit = json_object_get_int64(cr);
		printf("%-20s %4" PRIu64 " %6" PRIu64 " %4" PRIu64 " %9.3f %6.1f %6.1f %6.1f %5" PRIu64
		       " %5" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8" PRIu64 " %9.1f %10.2f\n",
		       name, ctl_json_u64(e, "id"), ctl_json_u64(e, "weight"), ctl_json_u64(e, "cap"),
		       (double)gpu / 1e9, share * 100, json_num(e, "share_100ms") * 100,
		       json_num(e, "share_1s") * 100, ctl_json_u64(e, "queued"),
		       ctl_json_u64(e, "in_flight"), ctl_json_u64(e, "submissions"),
		       ctl_json_u64(e, "releases"), ctl_json_u64(e, "waits"),
		       (double)ctl_json_u64(e, "wait_ns") / 1e6, (double)credit / 1e6);
		if (k < TOP_MAX_VGPUS) {
			snprintf(next.vm[k].name, sizeof(next.vm[k].name), "%s", name);
			next.vm[k].gpu_ns = gpu;
			next.n = (unsigned)k + 1;
		}
	}
	if (prev) {
		next.valid = true;
		next.uptime_ns = up;
		next.busy_ns = ctl_json_u64(g, "busy_ns");
		*prev = next;
	}
	return 0;
}

static int print_stats(struct json_object *reply)
{
	if (stats_json) {
		printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	}
	return print_stats_frame(reply, NULL);
}

static void sleep_seconds(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * top: the stats op once per delay on one connection, like xentop.  The
 * screen is cleared between frames only on a terminal, so the output can
 * be piped or logged; --json prints each raw reply on a line of its own.
 */
static int run_top(const char *socket_path, bool json, const struct command *cmd,
		   const struct ctl_request *req)
{
	static struct top_prev prev;
	char err[CTL_ERR_MAX];
	char *line = ctl_request_encode(req);
	bool tty = isatty(STDOUT_FILENO);
	int fd, r = 0;

	(void)cmd;
	prev.valid = false;
	if (!line) {
		fprintf(stderr, "gpuvmctl: out of memory\n");
		return EXIT_DAEMON;
	}
	fd = ctl_client_connect(socket_path, err, sizeof(err));
	for (unsigned long i = 0; fd >= 0 && !r; i++) {
		struct json_object *reply = NULL;
		char *reply_line = NULL;

		if (i > 0)
			sleep_seconds(top_opt.delay);
		if (ctl_client_call(fd, line, &reply_line, REPLY_TIMEOUT_MS, err, sizeof(err)) ||
		    ctl_reply_parse(reply_line, strlen(reply_line), &reply, err, sizeof(err))) {
			free(reply_line);
			r = EXIT_DAEMON;
			break;
		}
		if (tty && !json)
			printf("\033[H\033[2J");
		else if (i > 0 && !json)
			printf("\n");
		if (json)
			printf("%s\n", reply_line);
		else
			r = print_stats_frame(reply, &prev);
		fflush(stdout);
		json_object_put(reply);
		free(reply_line);
		if (top_opt.iterations && i + 1 >= top_opt.iterations)
			break;
	}
	if (fd < 0 || r == EXIT_DAEMON)
		fprintf(stderr, "gpuvmctl: %s\n", err);
	if (fd >= 0)
		close(fd);
	free(line);
	return fd < 0 ? EXIT_DAEMON : r;
}

static int call_daemon(const char *socket_path, bool json, const struct command *cmd,
		       const struct ctl_request *req);

/*
 * create with --[no-]lazy / --[no-]remap: the create request, then the
 * options through set-mode in the mode just created (which applies them at
 * once: nothing is bound on a new vGPU), before any guest can attach to it
 * through gpuvmctl.
 */
static int run_create(const char *socket_path, bool json, const struct command *cmd,
		      const struct ctl_request *req)
{
	struct ctl_request create = *req, opts;
	int r;

	if (!req->has_opt_lazy && !req->has_opt_remap)
		return call_daemon(socket_path, json, cmd, req);
	create.has_opt_lazy = create.has_opt_remap = false;
	r = call_daemon(socket_path, json, cmd, &create);
	if (r)
		return r;
	ctl_request_init(&opts, CTL_OP_SET_MODE);
	snprintf(opts.name, sizeof(opts.name), "%s", req->name);
	snprintf(opts.mode, sizeof(opts.mode), "%s", req->has_mode ? req->mode : "full");
	opts.has_mode = true;
	opts.has_opt_lazy = req->has_opt_lazy;
	opts.opt_lazy = req->opt_lazy;
	opts.has_opt_remap = req->has_opt_remap;
	opts.opt_remap = req->opt_remap;
	return call_daemon(socket_path, json, &(struct command){ .name = "set-mode", .print = print_nothing },
			   &opts);
}

static const struct command commands[] = {
	{ "create", "NAME [--mode MODE] [--vram SIZE] [--channels N] [--weight W] [--cap C] [--[no-]lazy] [--[no-]remap]",
	  "Create a vGPU.\n"
	  "  -m, --mode MODE      full (default), pv-naive or pv\n"
	  "  -v, --vram SIZE      VRAM partition, a multiple of 16M, e.g. 256M (default) or 1G\n"
	  "  -c, --channels N     GPU channels the VM may use, 1..64 (default 8)\n"
	  "  -w, --weight W       scheduling weight, 1..65535 (default 256)\n"
	  "      --cap C          at most C percent of the GPU, 1..100; 0 = no cap (default)\n"
	  "      --no-lazy        full mode: rebuild all shadows at every TLB flush\n"
	  "      --no-remap       trap every BAR1/BAR3 page (no BAR remapping)\n"
	  "      --lazy, --remap  the defaults, the optimisations on\n",
	  parse_create, print_created, run_create },
	{ "attach", "DOMAIN [--mode MODE] [--vram SIZE] [--channels N] [--bdf BB:DD.F]",
	  "Give a Xen domain (name or id) a new vGPU, shown to it as a PCI device\n"
	  "(needs gpuvmd --backend xen; see docs/xen-backend.md).  The vGPU is named\n"
	  "after the domain (or domID).\n"
	  "  -m, --mode MODE      full (default), pv-naive or pv\n"
	  "  -v, --vram SIZE      VRAM partition, a multiple of 16M (default 256M)\n"
	  "  -c, --channels N     GPU channels the VM may use, 1..64 (default 8)\n"
	  "  -b, --bdf BB:DD.F    the device's PCI address in the guest (default 00:03.0)\n",
	  parse_attach, print_created },
	{ "detach", "DOMAIN", "Take the vGPU away from a Xen domain and destroy it.\n",
	  parse_detach, print_nothing },
	{ "destroy", "NAME", "Destroy a vGPU: its guest is dropped, its channels stopped and\n"
	  "its VRAM scrubbed and freed.\n", parse_name, print_nothing },
	{ "reset", "NAME", "Reset a vGPU to its power-on state (channels stopped, VRAM scrubbed).\n",
	  parse_name, print_nothing },
	{ "set-mode", "NAME MODE [--[no-]lazy] [--[no-]remap]",
	  "Switch a vGPU to MODE (full, pv-naive or pv) at its next quiescent\n"
	  "point: at once if no channel is bound, else when its guest has let go of\n"
	  "them, resets it or asks for the switch.  'info' shows mode and pending_mode.\n"
	  "      --no-lazy        full mode: rebuild all shadows at every TLB flush\n"
	  "      --no-remap       trap every BAR1/BAR3 page (no BAR remapping)\n"
	  "      --lazy, --remap  turn the optimisation back on (the default)\n",
	  parse_set_mode, print_set_mode },
	{ "list", "", "List the vGPUs (Traps: trapped MMIO accesses; Denied: accesses\n"
	  "refused) and the host's free VRAM.\n", parse_none, print_list },
	{ "info", "NAME", "Show everything gpuvmd knows about a vGPU, one 'key: value' per line.\n",
	  parse_name, print_info },
	{ "check", "[NAME]", "Run the isolation checker on one vGPU, or on the host and every vGPU.\n"
	  "Exits 1 if isolation does not hold.\n", parse_opt_name, print_check },
	{ "version", "", "Show the daemon's control protocol version.\n", parse_none, print_version },
	{ "shutdown", "", "Ask gpuvmd to destroy every vGPU and exit.\n", parse_none, print_nothing },
	{ "sched", "[POLICY] [--period-ms N] [--tick-ms N] [--tslice-ms N]",
	  "Show the GPU scheduling policy and its parameters, or set them.\n"
	  "  POLICY               credit, band, fifo or direct (takes effect at once)\n"
	  "  -p, --period-ms N    credit/band accounting period, 1..10000 ms\n"
	  "  -k, --tick-ms N      how often the accounting runs, 1..1000 ms (<= period)\n"
	  "  -t, --tslice-ms N    how long one VM keeps the GPU while others wait, 1..1000 ms\n",
	  parse_sched, print_sched },
	{ "sched-credit", "[-d NAME] [-w WEIGHT] [-c CAP] [-t TSLICE_MS]",
	  "Show or set credit/band scheduling parameters, like xl sched-credit.  Without\n"
	  "options: every vGPU's weight and cap and the global time slice.\n"
	  "  -d, --domain NAME    the vGPU to show or set\n"
	  "  -w, --weight WEIGHT  its weight, 1..65535 (default 256); needs -d\n"
	  "  -c, --cap CAP        its cap in percent of the GPU, 0 (none) .. 100; needs -d\n"
	  "  -t, --tslice-ms MS   the global time slice, 1..1000 ms\n",
	  parse_sched_credit, print_sched_credit },
	{ "stats", "[NAME] [--json]",
	  "Scheduler statistics once: policy, GPU busy time, decisions and their cost;\n"
	  "per vGPU its GPU time, share (GPU% since start; 100ms% and 1s% sliding\n"
	  "windows), queue, submissions, waits and credit.\n"
	  "  -j, --json           print the daemon's JSON reply (for scripts)\n",
	  parse_stats, print_stats },
	{ "top", "[-n N] [-d SECONDS]",
	  "Show the scheduler statistics live, like xentop: a new frame every second,\n"
	  "GPU% over the last interval.  The screen is cleared between frames only\n"
	  "when the output is a terminal.\n"
	  "  -n, --iterations N   stop after N frames (default: until interrupted)\n"
	  "  -d, --delay SECONDS  time between frames (default 1, at least 0.05)\n",
	  parse_top, print_nothing, run_top, "stats" },
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
	ctl_request_init(&req, (enum ctl_op)ctl_op_parse(cmd->op ? cmd->op : cmd->name));
	r = cmd->parse(cmd, argc - first, argv + first, &req);
	if (r == WANTS_HELP) {
		command_usage(cmd, stdout);
		return 0;
	}
	if (r)
		return r;
	r = cmd->run ? cmd->run(g.socket_path, g.json, cmd, &req)
		     : call_daemon(g.socket_path, g.json, cmd, &req);
	fflush(stdout);
	return r;
}
