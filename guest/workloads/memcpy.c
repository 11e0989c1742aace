/*
 * memcpy: host-to-device, device-to-device and device-to-host copies of
 * SIZE bytes, checked bit-exactly, with the bandwidth of each direction.
 */
#include <stdlib.h>
#include <string.h>

#include "workload_priv.h"

struct memcpy_times {
	double htod, dtod, dtoh;
};

static int memcpy_round(struct gpuvm_ctx *ctx, const gpuvm_devptr *d, const uint32_t *src,
			uint32_t *dst, uint64_t size, struct memcpy_times *t)
{
	double t0 = wl_seconds(), t1, t2;
	int err = gpuvm_memcpy_htod(ctx, d[0], src, size);

	t1 = wl_seconds();
	if (!err)
		err = gpuvm_memcpy_dtod(ctx, d[1], d[0], size);
	if (!err)
		err = gpuvm_ctx_synchronize(ctx);
	t2 = wl_seconds();
	if (!err)
		err = gpuvm_memcpy_dtoh(ctx, dst, d[1], size);
	t->htod += t1 - t0;
	t->dtod += t2 - t1;
	t->dtoh += wl_seconds() - t2;
	return err;
}

static int memcpy_run(struct gpuvm_ctx *ctx, const struct gpuvm_workload_params *p,
		      struct gpuvm_workload_result *r)
{
	uint64_t size = p->size ? p->size : gpuvm_wl_memcpy.default_size;
	unsigned iters = p->iters ? p->iters : 1;
	uint64_t words = (size + 3) / 4;
	struct memcpy_times t = { 0 };
	uint32_t *src = malloc(words * 4), *dst = malloc(words * 4);
	gpuvm_devptr d[2];
	double gb;
	bool ok;
	int err;

	if (!src || !dst) {
		err = gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "memcpy: out of host memory");
		goto out;
	}
	wl_fill_u32(src, words, 0x1234567u);
	err = wl_alloc(ctx, d, 2, size);
	if (err)
		goto out;
	for (unsigned i = 0; i < iters && !err; i++) {
		memset(dst, 0, words * 4);
		err = memcpy_round(ctx, d, src, dst, size, &t);
	}
	wl_free(ctx, d, 2);
	if (err)
		goto out;
	ok = !memcmp(src, dst, size);
	gb = (double)size * iters / 1e9;
	err = wl_report(r, ok, t.htod + t.dtod + t.dtoh, gb / t.dtod, "GB/s",
			"memcpy %llu bytes x %u: HtoD %.2f GB/s, DtoD %.2f GB/s, DtoH %.2f GB/s%s",
			(unsigned long long)size, iters, gb / t.htod, gb / t.dtod, gb / t.dtoh,
			ok ? "" : " -- MISMATCH");
out:
	free(src);
	free(dst);
	return err;
}

const struct gpuvm_workload gpuvm_wl_memcpy = {
	.name = "memcpy",
	.summary = "HtoD, DtoD (M2MF) and DtoH copies, bit-exact check",
	.size_meaning = "bytes",
	.default_size = 64ull << 20,
	.run = memcpy_run,
};
