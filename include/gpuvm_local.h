/*
 * The local trap backend's wire protocol, shared by gpuvmd (mmio-trap/local_*)
 * and the guest library (guest/lib/transport_local.c).  docs/local-backend.md
 * describes it in prose; this header is the normative definition.
 *
 * A guest is a process.  It connects to gpuvmd's guest socket (an AF_UNIX
 * SOCK_SEQPACKET socket), sends one struct gpuvm_local_hello naming its vGPU
 * and receives one struct gpuvm_local_reply; on success the reply carries,
 * by SCM_RIGHTS, the fds listed under "File descriptors" below.  The
 * connection then stays open, silent, for the life of the attachment:
 * closing it (exit, crash) detaches the guest and resets its vGPU.
 *
 * Register accesses and BAR pages that must trap cross a shared page that
 * holds one Xen struct ioreq (include/xen_ioreq_layout.h) and follow Xen's
 * states: the guest fills a request and moves NONE -> READY, the daemon
 * moves READY -> INPROCESS -> IORESP_READY, the guest takes the result and
 * moves IORESP_READY -> NONE.  Each side spins briefly on the state and
 * then sleeps on its eventfd, after raising its "sleeping" flag on the page
 * so that the other side knows to signal it.
 *
 * Everything is little-endian, native layout, x86-64 / aarch64 (LP64).
 */
#ifndef GPUVM_LOCAL_H
#define GPUVM_LOCAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xen_ioreq_layout.h"

/* ---- Versioning --------------------------------------------------------------- */
#define GPUVM_LOCAL_MAGIC       0x4c4d5647u     /* "GVML" as little-endian bytes */
#define GPUVM_LOCAL_VERSION     1u

/* The socket: the control socket's path + this suffix. */
#define GPUVM_LOCAL_SOCKET_SUFFIX ".guest"
#define GPUVM_LOCAL_DEFAULT_SOCKET "/run/gpuvmd.sock.guest"
#define GPUVM_LOCAL_SOCKET_ENV  "GPUVMD_SOCKET"  /* control socket; ".guest" is appended */

#define GPUVM_LOCAL_NAME_MAX    32              /* vGPU name incl. NUL (= VGPU_NAME_MAX) */
#define GPUVM_LOCAL_MAX_PARTS   64              /* = VGPU_MAX_PARTS */
#define GPUVM_LOCAL_MSG_MAX     128
#define GPUVM_LOCAL_PAGE_SIZE   4096u

/* ---- Guest-physical layout of the BARs -----------------------------------------
 * ioreq.addr is a guest-physical address: BARn's byte OFF is at
 * GPUVM_LOCAL_BARn_BASE + OFF.  Each BAR has a window of 4 GiB; only the
 * first bar_size[n] bytes (from the reply) are decoded.
 */
#define GPUVM_LOCAL_BAR0_BASE   0x100000000ull
#define GPUVM_LOCAL_BAR1_BASE   0x200000000ull
#define GPUVM_LOCAL_BAR3_BASE   0x300000000ull
#define GPUVM_LOCAL_BAR_WINDOW  0x100000000ull

/* Base of BAR bar (0, 1 or 3), or 0 for a BAR that does not exist. */
static inline uint64_t gpuvm_local_bar_base(unsigned bar)
{
	switch (bar) {
	case 0: return GPUVM_LOCAL_BAR0_BASE;
	case 1: return GPUVM_LOCAL_BAR1_BASE;
	case 3: return GPUVM_LOCAL_BAR3_BASE;
	}
	return 0;
}

/* ---- Handshake ---------------------------------------------------------------------- */
/* Guest -> daemon: exactly one message of exactly this size. */
struct gpuvm_local_hello {
	uint32_t magic;                 /* GPUVM_LOCAL_MAGIC */
	uint16_t version;               /* GPUVM_LOCAL_VERSION */
	uint16_t size;                  /* sizeof(struct gpuvm_local_hello) = 48 */
	uint32_t flags;                 /* 0; the daemon rejects unknown bits */
	uint32_t reserved;              /* 0 */
	char name[GPUVM_LOCAL_NAME_MAX];/* NUL-terminated, [A-Za-z0-9_.-]{1,31} */
};

_Static_assert(sizeof(struct gpuvm_local_hello) == 48, "hello is 48 bytes");

/* Reply flags. */
#define GPUVM_LOCAL_F_DIRECT    0x1u    /* remap table and partition fds are present */

/* Fixed fd indices in the reply's SCM_RIGHTS array. */
enum {
	GPUVM_LOCAL_FD_IOREQ = 0,       /* memfd, PAGE_SIZE bytes: struct gpuvm_local_page, map RW shared */
	GPUVM_LOCAL_FD_TO_SERVER = 1,   /* eventfd: guest writes 1 to wake the daemon */
	GPUVM_LOCAL_FD_TO_GUEST = 2,    /* eventfd: the daemon writes 1 to wake the guest */
	GPUVM_LOCAL_FD_REMAP = 3,       /* F_DIRECT: memfd of the remap table, map read-only */
	GPUVM_LOCAL_FD_PART0 = 4,       /* F_DIRECT: part[i] is fd PART0 + i, map RW shared */
	GPUVM_LOCAL_FD_MAX = GPUVM_LOCAL_FD_PART0 + GPUVM_LOCAL_MAX_PARTS,
};

/* One backing file of the partition: guest-physical [gpa, gpa + len) is
 * bytes [fd_off, fd_off + len) of its fd.  Parts are in guest-physical
 * order, back to back from 0, page aligned, and add up to vram_size. */
struct gpuvm_local_part {
	uint64_t gpa;
	uint64_t len;
	uint64_t fd_off;
};

/*
 * Daemon -> guest: exactly one message of exactly this size.  status 0: the
 * guest is attached and nfds fds came with it; otherwise no fds, message
 * says why and the daemon closes the connection.
 */
struct gpuvm_local_reply {
	uint32_t magic;                 /* GPUVM_LOCAL_MAGIC */
	uint16_t version;               /* GPUVM_LOCAL_VERSION (the daemon's) */
	uint16_t size;                  /* sizeof(struct gpuvm_local_reply) */
	int32_t status;                 /* 0 or a negative errno, see below */
	uint32_t flags;                 /* GPUVM_LOCAL_F_* */
	char message[GPUVM_LOCAL_MSG_MAX]; /* NUL-terminated reason when status != 0 */
	/* Valid when status == 0: */
	uint32_t nfds;                  /* 3, or 4 + nparts with F_DIRECT */
	uint32_t nparts;                /* F_DIRECT: entries used in part[] */
	uint32_t page_size;             /* GPUVM_LOCAL_PAGE_SIZE */
	uint32_t ioreq_len;             /* bytes of the ioreq memfd (one page) */
	uint64_t bar_base[4];           /* guest-physical base of BAR0/1/3 ([2] = 0) */
	uint64_t bar_size[4];           /* BAR sizes in bytes ([2] = 0) */
	uint64_t vram_size;             /* the partition: guest-physical [0, vram_size) */
	uint32_t bar1_pages;            /* remap table entries for BAR1 ... */
	uint32_t bar3_pages;            /* ... then for BAR3 */
	uint64_t remap_len;             /* F_DIRECT: bytes of the table file to map */
	struct gpuvm_local_part part[GPUVM_LOCAL_MAX_PARTS];
};

/*
 * Status codes:
 *   -EPROTO   the hello was malformed (size, magic, flags)
 *   -EPROTONOSUPPORT  the hello's version is not spoken by this daemon
 *   -EINVAL   the name is not a valid vGPU name
 *   -ENOENT   no vGPU of that name ("no vGPU named NAME")
 *   -EBUSY    the vGPU has a guest already ("vGPU NAME already has a guest")
 *   other     the daemon could not set the guest up (message says why)
 */

/* ---- The remap table ------------------------------------------------------------------
 * One uint32_t per BAR1 page, then one per BAR3 page: 0 = the page traps
 * (go through the ioreq page), else (guest-physical page number) + 1 of
 * the VRAM page it maps, reachable directly in the partition mapping.  The
 * daemon updates entries while the guest runs; read the entry (atomically)
 * before every direct access and never cache it.
 */
static inline uint64_t gpuvm_local_remap_index(unsigned bar, uint64_t off, uint32_t bar1_pages)
{
	return (bar == 3 ? bar1_pages : 0) + off / GPUVM_LOCAL_PAGE_SIZE;
}

/* ---- The shared ioreq page --------------------------------------------------------- */
struct gpuvm_local_page {
	/* Offset 0: vCPU 0's ioreq, as vcpu_ioreq[0] of Xen's shared_iopage. */
	struct gpuvm_ioreq req;
	uint8_t pad0[64 - sizeof(struct gpuvm_ioreq)];
	/* Offset 64: the daemon is (about to be) blocked on TO_SERVER. */
	uint32_t server_sleeping;
	uint8_t pad1[60];
	/* Offset 128: the guest is (about to be) blocked on TO_GUEST. */
	uint32_t guest_sleeping;
	uint8_t pad2[GPUVM_LOCAL_PAGE_SIZE - 132];
};

_Static_assert(sizeof(struct gpuvm_local_page) == GPUVM_LOCAL_PAGE_SIZE, "one page");
_Static_assert(offsetof(struct gpuvm_local_page, server_sleeping) == 64, "layout");
_Static_assert(offsetof(struct gpuvm_local_page, guest_sleeping) == 128, "layout");
_Static_assert(offsetof(struct gpuvm_ioreq, data) == 8 && offsetof(struct gpuvm_ioreq, count) == 16 &&
	       offsetof(struct gpuvm_ioreq, vp_eport) == 24 && offsetof(struct gpuvm_ioreq, type) == 31,
	       "struct ioreq layout");

/*
 * Both sides access the ioreq as four 64-bit words with atomic loads and
 * stores: word 0 addr, word 1 data, word 2 count and size, word 3 the
 * control word (vp_eport, pad, the state/data_is_ptr/dir/df bit-field byte
 * and type).  The state lives in the control word, so it is published
 * together with dir and type by one release store, and read by one acquire
 * load.  The helpers below convert between a control word and the fields
 * through struct gpuvm_ioreq itself, so they do not depend on how the
 * compiler lays out the bit-fields.
 */
#define GPUVM_LOCAL_WORDS 4

static inline uint64_t *gpuvm_local_req_words(struct gpuvm_local_page *p)
{
	return (uint64_t *)(void *)&p->req;
}

static inline uint64_t gpuvm_local_ctl_word(const struct gpuvm_ioreq *r)
{
	uint64_t w;

	memcpy(&w, (const char *)r + 24, sizeof(w));
	return w;
}

static inline void gpuvm_local_req_from_words(struct gpuvm_ioreq *r, const uint64_t w[GPUVM_LOCAL_WORDS])
{
	memcpy(r, w, sizeof(*r));
}

static inline unsigned gpuvm_local_ctl_state(uint64_t ctl)
{
	struct gpuvm_ioreq r;

	memset(&r, 0, sizeof(r));
	memcpy((char *)&r + 24, &ctl, sizeof(ctl));
	return r.state;
}

static inline uint64_t gpuvm_local_ctl_with_state(uint64_t ctl, unsigned state)
{
	struct gpuvm_ioreq r;

	memset(&r, 0, sizeof(r));
	memcpy((char *)&r + 24, &ctl, sizeof(ctl));
	r.state = state & 0xf;
	return gpuvm_local_ctl_word(&r);
}

/* ---- Client API (libgpuvm-guest, guest/lib/transport_local.c) -----------------------
 * The transport "local:NAME[@SOCKET]" is built on this; tests and
 * benchmarks use it directly to drive raw ioreqs.
 */
#include <pthread.h>
#include <stdbool.h>

#define GPUVM_LOCAL_DEFAULT_TIMEOUT_MS 10000u

struct gpuvm_local_client {
	int sock;
	int fd[3];                      /* ioreq memfd, TO_SERVER, TO_GUEST */
	struct gpuvm_local_page *page;
	const uint32_t *remap;          /* NULL without F_DIRECT */
	size_t remap_map_len;
	uint8_t *vram;                  /* the partition, NULL without F_DIRECT */
	struct gpuvm_local_reply info;
	pthread_mutex_t lock;           /* one request at a time on the page */
	int error;                      /* sticky: 0, -EPIPE, -ETIMEDOUT, -EPROTO */
	unsigned timeout_ms;            /* bound on one request; set before connect, 0 =
					   $GPUVM_LOCAL_TIMEOUT_MS or 10 s */
	unsigned spin_ns;               /* spin before sleeping; set by connect */
	uint64_t sleeps, notifies;      /* statistics: blocking waits, eventfd signals sent */
};

/*
 * Connect to the daemon at socket_path and attach to vGPU name.  0, or a
 * negative errno with a message in err (the daemon's message for a refusal:
 * -ENOENT, -EBUSY, ...).
 */
int gpuvm_local_connect(struct gpuvm_local_client *c, const char *socket_path, const char *name,
			char *err, size_t errlen);
/* Unmap and close everything (the daemon then detaches the vGPU). */
void gpuvm_local_disconnect(struct gpuvm_local_client *c);
/*
 * One access through the ioreq page: addr guest-physical, size 1/2/4/8,
 * dir GPUVM_IOREQ_READ (result in *data) or _WRITE (*data written).  0, or
 * the sticky error (then a read returns all ones).
 */
int gpuvm_local_io(struct gpuvm_local_client *c, uint64_t addr, unsigned size, unsigned dir,
		   uint64_t *data);
/* The socket path for a spec's optional "@PATH", $GPUVMD_SOCKET or the default. */
void gpuvm_local_socket_path(const char *at_path, char *out, size_t outlen);

#endif
