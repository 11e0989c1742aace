/*
 * Drives libxl's gpuvmd client (tools/libs/light/libxl_gpuvm.c) without
 * Xen: it links the patched static libxenlight, fake-xen.c stands in for
 * libxc and xenstore's handles, and xenstore itself is a table in memory.
 * Whatever listens on SOCKET (a recording fake, or the real gpuvmd) gets
 * the requests libxl would send.  libxl's log goes to stderr.
 *
 *   test-gpuvm-client attach SOCKET DOMID [mode=M] [vram_kb=N] [channels=N]
 *                            [bdf=B] [weight=N] [cap=N] [count=N]
 *       libxl__gpuvm_attach() for a domain config with that vGPU (count=2:
 *       two vGPUs); prints "rc=N" and "xenstore PATH=VALUE" for what it
 *       recorded; exits 0 iff rc is 0.
 *   test-gpuvm-client detach SOCKET DOMID
 *       /libxl/DOMID/gpuvm-socket = SOCKET, then libxl__gpuvm_detach();
 *       prints what is left in xenstore.
 */
#include "libxl_osdeps.h"
#include "libxl_internal.h"

/* ---- xenstore: a small table --------------------------------------------- */

#define XS_MAX 16
static struct { char *path, *value; } xs[XS_MAX];

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
	      unsigned int *len)
{
	int i;

	for (i = 0; i < XS_MAX; i++) {
		if (xs[i].path && !strcmp(xs[i].path, path)) {
			if (len)
				*len = strlen(xs[i].value);
			return strdup(xs[i].value);
		}
	}
	errno = ENOENT;
	return NULL;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
	      const void *data, unsigned int len)
{
	int i, free_slot = -1;

	for (i = 0; i < XS_MAX; i++) {
		if (xs[i].path && !strcmp(xs[i].path, path))
			break;
		if (!xs[i].path && free_slot < 0)
			free_slot = i;
	}
	if (i == XS_MAX) {
		if (free_slot < 0) {
			errno = ENOSPC;
			return false;
		}
		i = free_slot;
		xs[i].path = strdup(path);
	}
	free(xs[i].value);
	xs[i].value = strndup(data, len);
	return true;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	int i;

	for (i = 0; i < XS_MAX; i++) {
		if (xs[i].path && !strcmp(xs[i].path, path)) {
			free(xs[i].path);
			free(xs[i].value);
			xs[i].path = xs[i].value = NULL;
			return true;
		}
	}
	errno = ENOENT;
	return false;
}

static void xs_dump(void)
{
	int i;

	for (i = 0; i < XS_MAX; i++)
		if (xs[i].path)
			printf("xenstore %s=%s\n", xs[i].path, xs[i].value);
}

/* ---- the cases ------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: test-gpuvm-client attach|detach SOCKET DOMID [KEY=VALUE...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	libxl_domain_config cfg;
	libxl_gpuvm_vgpu *v;
	xentoollog_logger_stdiostream *logger;
	libxl_ctx *ctx;
	uint32_t domid;
	int i, rc, count = 1;

	if (argc < 4)
		return usage();
	domid = strtoul(argv[3], NULL, 10);
	logger = xtl_createlogger_stdiostream(stderr, XTL_DEBUG, 0);
	if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)logger)) {
		fprintf(stderr, "libxl_ctx_alloc failed\n");
		return 1;
	}
	GC_INIT(ctx);

	if (!strcmp(argv[1], "detach")) {
		xs_write(NULL, XBT_NULL, GCSPRINTF("/libxl/%u/gpuvm-socket", domid),
			 argv[2], strlen(argv[2]));
		libxl__gpuvm_detach(gc, domid);
		xs_dump();
		rc = 0;
	} else if (!strcmp(argv[1], "attach")) {
		for (i = 4; i < argc; i++)
			if (!strncmp(argv[i], "count=", 6))
				count = atoi(argv[i] + 6);
		libxl_domain_config_init(&cfg);
		cfg.num_vgpus = count;
		cfg.vgpus = calloc(count, sizeof(*cfg.vgpus));
		for (i = 0; i < count; i++)
			libxl_gpuvm_vgpu_init(&cfg.vgpus[i]);
		v = &cfg.vgpus[0];
		v->socket = strdup(argv[2]);
		for (i = 4; i < argc; i++) {
			char *val = strchr(argv[i], '=');

			if (!val)
				return usage();
			*val++ = '\0';
			if (!strcmp(argv[i], "mode"))
				libxl_gpuvm_mode_from_string(val, &v->mode);
			else if (!strcmp(argv[i], "vram_kb"))
				v->vram_kb = strtoull(val, NULL, 10);
			else if (!strcmp(argv[i], "channels"))
				v->channels = atoi(val);
			else if (!strcmp(argv[i], "bdf"))
				v->bdf = strdup(val);
			else if (!strcmp(argv[i], "weight"))
				v->weight = atoi(val);
			else if (!strcmp(argv[i], "cap"))
				v->cap = atoi(val);
			else if (strcmp(argv[i], "count"))
				return usage();
		}
		rc = libxl__gpuvm_attach(gc, domid, &cfg);
		printf("rc=%d\n", rc);
		xs_dump();
		libxl_domain_config_dispose(&cfg);
	} else {
		return usage();
	}

	GC_FREE;
	libxl_ctx_free(ctx);
	xtl_logger_destroy((xentoollog_logger *)logger);
	return rc ? 1 : 0;
}
