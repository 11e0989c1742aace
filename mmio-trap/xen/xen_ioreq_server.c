/*
 * One Xen ioreq server per domain (see xen_ioreq_server.h).
 *
 * Protocol, per vCPU slot of the shared ioreq page: Xen fills a request and
 * sets STATE_IOREQ_READY, then signals the vCPU's event channel; we mark it
 * INPROCESS, serve it, write the result, set STATE_IORESP_READY (after a
 * barrier) and signal back; Xen hands the result to the vCPU and sets the
 * slot to STATE_IOREQ_NONE.  Buffered requests (writes that need no
 * answer) arrive in a ring on a second page with its own event channel.
 * The thread rescans every slot on each wake-up, so a coalesced event never
 * strands a request.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

#include "log.h"
#include "xen_ioreq_server.h"

/* public/hvm/hvm_op.h defines it for __XEN_TOOLS__ builds only. */
#ifndef HVM_IOREQSRV_BUFIOREQ_ATOMIC
#define HVM_IOREQSRV_BUFIOREQ_ATOMIC 2
#endif

#define XEN_PAGE                4096
#define MAX_VCPUS               (XEN_PAGE / sizeof(ioreq_t))
#define DRAIN_TIMEOUT_NS        (1000ll * 1000 * 1000)

struct xen_ioreq_server {
	struct xen_ioreq_server_config cfg;
	domid_t domid;
	ioservid_t id;
	bool created, enabled, thread_started;

	xendevicemodel_handle *dm;
	xenforeignmemory_handle *fm;
	xenevtchn_handle *xce;
	xenforeignmemory_resource_handle *res;
	void *pages;                            /* buffered page, then the ioreq page */
	volatile buffered_iopage_t *bp;
	volatile shared_iopage_t *sp;
	evtchn_port_t *ports;                   /* local port per vCPU */
	evtchn_port_t buf_port;                 /* local port of the buffered ring */
	bool buf_bound;

	struct xen_vpci pci;                    /* touched by the thread only once started */
	struct xen_vpci_bar claimed[XEN_VPCI_NBARS];

	pthread_t thread;
	int stop_pipe[2];
	int stopping;                           /* atomic */

	pthread_mutex_t stats_lock;
	struct xen_ioreq_server_stats stats;
};

static void fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- MMIO claims ------------------------------------------------------------------ */

/* Make Xen's claimed MMIO ranges match the BARs the guest has decoded. */
static void update_claims(struct xen_ioreq_server *s)
{
	struct xen_vpci_bar now[XEN_VPCI_NBARS];

	xen_vpci_bars(&s->pci, now);
	for (unsigned n = 0; n < XEN_VPCI_NBARS; n++) {
		struct xen_vpci_bar *old = &s->claimed[n];
		bool same = old->decoded == now[n].decoded &&
			    (!old->decoded || old->base == now[n].base);

		if (same)
			continue;
		if (old->decoded &&
		    xendevicemodel_unmap_io_range_from_ioreq_server(s->dm, s->domid, s->id, 1,
								   old->base,
								   old->base + old->size - 1))
			gpuvm_log(GPUVM_LOG_WARN, "xen: dom%u: releasing BAR%u at %#llx failed: %s",
				  s->cfg.domid, n, (unsigned long long)old->base, strerror(errno));
		old->decoded = false;
		if (!now[n].decoded)
			continue;
		if (xendevicemodel_map_io_range_to_ioreq_server(s->dm, s->domid, s->id, 1,
								now[n].base,
								now[n].base + now[n].size - 1)) {
			gpuvm_log(GPUVM_LOG_WARN, "xen: dom%u: claiming BAR%u at %#llx (%llu MiB) "
				  "failed: %s; its accesses will not reach the vGPU", s->cfg.domid, n,
				  (unsigned long long)now[n].base,
				  (unsigned long long)(now[n].size >> 20), strerror(errno));
			continue;
		}
		*old = now[n];
		gpuvm_log(GPUVM_LOG_INFO, "xen: dom%u: BAR%u decoded at %#llx", s->cfg.domid, n,
			  (unsigned long long)now[n].base);
	}
}

/* ---- Serving ------------------------------------------------------------------------ */

static void count(struct xen_ioreq_server *s, const struct xen_ioreq_outcome *out, bool buffered,
		  long long ns)
{
	pthread_mutex_lock(&s->stats_lock);
	s->stats.handled++;
	s->stats.serve_ns += (uint64_t)ns;
	if (buffered)
		s->stats.buffered++;
	if (out->result == XEN_IOREQ_DENIED)
		s->stats.denied++;
	pthread_mutex_unlock(&s->stats_lock);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void serve_view(struct xen_ioreq_server *s, struct xen_ioreq_view *v, bool buffered)
{
	struct xen_ioreq_outcome out;
	long long t0 = now_ns();

	xen_ioreq_serve(&s->pci, v, s->cfg.mmio, s->cfg.mmio_arg, &out);
	if (out.result == XEN_IOREQ_DENIED)
		gpuvm_log(GPUVM_LOG_DEBUG, "xen: dom%u: denied %s type %u addr %#llx size %u: %s",
			  s->cfg.domid, v->dir == XEN_IOREQ_READ ? "read" : "write", v->type,
			  (unsigned long long)v->addr, v->size, out.why);
	if (out.bars_changed)
		update_claims(s);
	count(s, &out, buffered, now_ns() - t0);
}

/* Serve the slot of vCPU i if it holds a request.  True if it did. */
static bool serve_slot(struct xen_ioreq_server *s, unsigned i)
{
	volatile ioreq_t *r = &s->sp->vcpu_ioreq[i];
	struct xen_ioreq_view v;

	if (r->state != STATE_IOREQ_READY)
		return false;
	fence();
	r->state = STATE_IOREQ_INPROCESS;
	v.addr = r->addr;
	v.data = r->data;
	v.count = r->count;
	v.size = r->size;
	v.type = r->type;
	v.dir = r->dir;
	v.data_is_ptr = r->data_is_ptr;
	v.df = r->df;
	serve_view(s, &v, false);
	if (v.dir == XEN_IOREQ_READ && !v.data_is_ptr)
		r->data = v.data;
	fence();
	r->state = STATE_IORESP_READY;
	fence();
	xenevtchn_notify(s->xce, s->ports[i]);
	return true;
}

static void serve_buffered(struct xen_ioreq_server *s)
{
	volatile buffered_iopage_t *bp = s->bp;

	if (!bp)
		return;
	for (;;) {
		uint32_t rp = bp->read_pointer, wp = bp->write_pointer;
		uint32_t cur[2], nxt[2];
		struct xen_ioreq_view v;
		unsigned used;

		fence();
		if (rp == wp)
			return;
		memcpy(cur, (const void *)&bp->buf_ioreq[rp % IOREQ_BUFFER_SLOT_NUM], sizeof(cur));
		memcpy(nxt, (const void *)&bp->buf_ioreq[(rp + 1) % IOREQ_BUFFER_SLOT_NUM],
		       sizeof(nxt));
		used = xen_bufioreq_decode(cur, wp - rp >= 2 ? nxt : NULL, &v);
		if (!used)
			return;         /* the second half of an 8-byte write is not there yet */
		if (v.dir == XEN_IOREQ_WRITE)
			serve_view(s, &v, true);
		fence();
		__atomic_fetch_add((uint32_t *)&bp->read_pointer, used, __ATOMIC_SEQ_CST);
	}
}

static bool idle(struct xen_ioreq_server *s)
{
	for (unsigned i = 0; i < s->cfg.nvcpus; i++)
		if (s->sp->vcpu_ioreq[i].state != STATE_IOREQ_NONE)
			return false;
	return !s->bp || s->bp->read_pointer == s->bp->write_pointer;
}

static void *server_thread(void *arg)
{
	struct xen_ioreq_server *s = arg;
	struct pollfd pfd[2] = {
		{ .fd = xenevtchn_fd(s->xce), .events = POLLIN },
		{ .fd = s->stop_pipe[0], .events = POLLIN },
	};
	long long deadline = 0;

	for (;;) {
		bool stopping = __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);

		if (stopping && !deadline)
			deadline = now_ns() + DRAIN_TIMEOUT_NS;
		if (poll(pfd, 2, stopping ? 5 : -1) < 0 && errno != EINTR) {
			gpuvm_log(GPUVM_LOG_ERR, "xen: dom%u: poll: %s", s->cfg.domid, strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			xenevtchn_port_or_error_t port = xenevtchn_pending(s->xce);

			if (port >= 0)
				xenevtchn_unmask(s->xce, (evtchn_port_t)port);
			pthread_mutex_lock(&s->stats_lock);
			s->stats.wakeups++;
			pthread_mutex_unlock(&s->stats_lock);
		}
		for (unsigned i = 0; i < s->cfg.nvcpus; i++)
			serve_slot(s, i);
		serve_buffered(s);
		/* Drained: every response taken by its vCPU (or the guest is gone). */
		if (stopping && (idle(s) || now_ns() > deadline))
			break;
	}
	return NULL;
}

/* ---- Life cycle --------------------------------------------------------------------- */

static void teardown(struct xen_ioreq_server *s)
{
	if (s->enabled)
		xendevicemodel_set_ioreq_server_state(s->dm, s->domid, s->id, 0);
	s->enabled = false;
	if (s->thread_started) {
		char c = 1;

		__atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
		if (write(s->stop_pipe[1], &c, 1) < 0)
			gpuvm_log(GPUVM_LOG_WARN, "xen: stop pipe: %s", strerror(errno));
		pthread_join(s->thread, NULL);
		s->thread_started = false;
	}
	for (unsigned i = 0; s->ports && i < s->cfg.nvcpus; i++)
		if (s->ports[i])
			xenevtchn_unbind(s->xce, s->ports[i]);
	if (s->buf_bound)
		xenevtchn_unbind(s->xce, s->buf_port);
	if (s->res)
		xenforeignmemory_unmap_resource(s->fm, s->res);
	if (s->created)
		xendevicemodel_destroy_ioreq_server(s->dm, s->domid, s->id);
	if (s->xce)
		xenevtchn_close(s->xce);
	if (s->fm)
		xenforeignmemory_close(s->fm);
	if (s->dm)
		xendevicemodel_close(s->dm);
	if (s->stop_pipe[0] >= 0)
		close(s->stop_pipe[0]);
	if (s->stop_pipe[1] >= 0)
		close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->stats_lock);
	free(s->ports);
	free(s);
}

static struct xen_ioreq_server *fail(struct xen_ioreq_server *s, char *err, size_t errlen,
				     const char *what)
{
	snprintf(err, errlen, "xen: dom%u: %s: %s", s->cfg.domid, what, strerror(errno));
	teardown(s);
	return NULL;
}

struct xen_ioreq_server *xen_ioreq_server_start(const struct xen_ioreq_server_config *cfg,
						char *err, size_t errlen)
{
	struct xen_ioreq_server *s;
	const struct xen_vpci_sbdf *b = &cfg->pci.sbdf;
	evtchn_port_t remote_buf = 0;

	if (!cfg->nvcpus || cfg->nvcpus > MAX_VCPUS) {
		snprintf(err, errlen, "xen: dom%u: %u vCPUs (supported: 1..%zu)", cfg->domid,
			 cfg->nvcpus, (size_t)MAX_VCPUS);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->domid = (domid_t)cfg->domid;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	pthread_mutex_init(&s->stats_lock, NULL);
	if (xen_vpci_init(&s->pci, &cfg->pci)) {
		snprintf(err, errlen, "xen: dom%u: bad PCI configuration", cfg->domid);
		teardown(s);
		return NULL;
	}
	s->ports = calloc(cfg->nvcpus, sizeof(*s->ports));
	if (!s->ports || pipe2(s->stop_pipe, O_CLOEXEC))
		return fail(s, err, errlen, "allocating");
	s->dm = xendevicemodel_open(NULL, 0);
	s->fm = xenforeignmemory_open(NULL, 0);
	s->xce = xenevtchn_open(NULL, 0);
	if (!s->dm || !s->fm || !s->xce)
		return fail(s, err, errlen, "opening the Xen device-model interfaces");
	if (xendevicemodel_create_ioreq_server(s->dm, s->domid, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &s->id))
		return fail(s, err, errlen, "creating the ioreq server");
	s->created = true;
	/* Frame 0 is the buffered ring, frame 1 the per-vCPU slots. */
	s->res = xenforeignmemory_map_resource(s->fm, s->domid, XENMEM_resource_ioreq_server, s->id,
					       XENMEM_resource_ioreq_server_frame_bufioreq, 2,
					       &s->pages, PROT_READ | PROT_WRITE, 0);
	if (!s->res)
		return fail(s, err, errlen, "mapping the ioreq pages");
	s->bp = s->pages;
	s->sp = (volatile shared_iopage_t *)((char *)s->pages + XEN_PAGE);
	if (xendevicemodel_get_ioreq_server_info(s->dm, s->domid, s->id, NULL, NULL, &remote_buf))
		return fail(s, err, errlen, "reading the buffered event channel");
	if (xendevicemodel_map_pcidev_to_ioreq_server(s->dm, s->domid, s->id, b->seg, b->bus,
						      b->dev, b->fn))
		return fail(s, err, errlen, "claiming the PCI function");
	if (cfg->claim_cf8 &&
	    xendevicemodel_map_io_range_to_ioreq_server(s->dm, s->domid, s->id, 0, XEN_VPCI_CF8,
							XEN_VPCI_CF8 + 3))
		return fail(s, err, errlen, "claiming ports 0xcf8-0xcfb");
	if (xendevicemodel_set_ioreq_server_state(s->dm, s->domid, s->id, 1))
		return fail(s, err, errlen, "enabling the ioreq server");
	s->enabled = true;
	/* The event channels exist once the server is enabled. */
	for (unsigned i = 0; i < cfg->nvcpus; i++) {
		xenevtchn_port_or_error_t p =
			xenevtchn_bind_interdomain(s->xce, s->domid, s->sp->vcpu_ioreq[i].vp_eport);

		if (p < 0)
			return fail(s, err, errlen, "binding a vCPU event channel");
		s->ports[i] = (evtchn_port_t)p;
	}
	{
		xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(s->xce, s->domid, remote_buf);

		if (p < 0)
			return fail(s, err, errlen, "binding the buffered event channel");
		s->buf_port = (evtchn_port_t)p;
		s->buf_bound = true;
	}
	if (pthread_create(&s->thread, NULL, server_thread, s)) {
		errno = EAGAIN;
		return fail(s, err, errlen, "starting the server thread");
	}
	s->thread_started = true;
	gpuvm_log(GPUVM_LOG_INFO, "xen: dom%u: ioreq server %u serves %04x:%02x:%02x.%x "
		  "(%u vCPUs%s)", cfg->domid, s->id, b->seg, b->bus, b->dev, b->fn, cfg->nvcpus,
		  cfg->claim_cf8 ? ", ports 0xcf8-0xcfb" : "");
	return s;
}

unsigned xen_ioreq_server_id(const struct xen_ioreq_server *s)
{
	return s->id;
}

void xen_ioreq_server_stop(struct xen_ioreq_server *s)
{
	if (s)
		teardown(s);
}

void xen_ioreq_server_stats(struct xen_ioreq_server *s, struct xen_ioreq_server_stats *out)
{
	pthread_mutex_lock(&s->stats_lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->stats_lock);
}

int xen_ioreq_server_destroy_stale(unsigned domid, unsigned servid)
{
	xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
	int ret;

	if (!dm)
		return -1;
	ret = xendevicemodel_destroy_ioreq_server(dm, (domid_t)domid, (ioservid_t)servid);
	xendevicemodel_close(dm);
	return ret ? -1 : 0;
}
