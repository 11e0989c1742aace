/* Shadow address spaces (see shadow_vm.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvc0/mem.h"
#include "shadow_vm.h"

#define PTES_PER_PAGE       (NV_SPAGE_SIZE / 8)     /* 512 */
#define SMALL_PER_LARGE     (NV_LPAGE_SIZE / NV_SPAGE_SIZE)
/* A page's dirty mask has one bit per 64-byte block: 8 PTEs or PDEs. */
#define DIRTY_BLOCK         (NV_SPAGE_SIZE / 64)
#define ENTRIES_PER_BLOCK   (DIRTY_BLOCK / 8)
/* Up to this many dirty pages are matched against each table directly;
 * beyond it every page of every table is looked up in the dirty map. */
#define DIRTY_LIST_MAX      16

enum table_size { TABLE_SMALL, TABLE_LARGE };

static unsigned table_entries(enum table_size t)
{
	return t == TABLE_SMALL ? NV_SPT_ENTRIES : NV_LPT_ENTRIES;
}

static uint64_t guest_rd64(const struct shadow_vm *s, uint64_t gaddr)
{
	const uint32_t *p = (const uint32_t *)(const void *)(s->env->gmem + gaddr);

	/* The guest may be writing its tables right now: read each word once. */
	return __atomic_load_n(p, __ATOMIC_RELAXED) |
	       (uint64_t)__atomic_load_n(p + 1, __ATOMIC_RELAXED) << 32;
}

static bool guest_range_ok(const struct shadow_vm *s, uint64_t gaddr, uint64_t len)
{
	return gaddr < s->env->gsize && len <= s->env->gsize - gaddr;
}

/* ---- page dependencies ------------------------------------------------------ */

static int svm_track(struct shadow_vm *s, uint64_t gpfn)
{
	uint64_t *n = gpfn_map_get(&s->mine, gpfn);

	if (!n)
		return -ENOMEM;
	if ((*n)++ == 0)
		return page_track_get(s->env->track, gpfn, PAGE_PT);
	return 0;
}

static void svm_untrack(struct shadow_vm *s, uint64_t gpfn)
{
	uint64_t *n = gpfn_map_find(&s->mine, gpfn);

	if (!n)
		return;
	if (--*n == 0) {
		gpfn_map_del(&s->mine, gpfn);
		page_track_put(s->env->track, gpfn, PAGE_PT);
	}
}

/* Every page that [gaddr, gaddr + len) touches. */
static void svm_track_range(struct shadow_vm *s, uint64_t gaddr, uint64_t len, bool on)
{
	for (uint64_t pfn = gaddr >> NV_SPAGE_SHIFT; pfn <= (gaddr + len - 1) >> NV_SPAGE_SHIFT; pfn++) {
		if (on)
			svm_track(s, pfn);
		else
			svm_untrack(s, pfn);
	}
}

/* ---- translation -------------------------------------------------------------- */

static uint64_t shadow_pte(struct shadow_vm *s, uint64_t gpte, enum table_size t)
{
	uint64_t psize = t == TABLE_SMALL ? NV_SPAGE_SIZE : NV_LPAGE_SIZE;
	uint64_t g;

	if (!(gpte & NV_PTE_VALID))
		return 0;
	g = nv_pte_addr(gpte) & ~(psize - 1);
	if (nv_pte_aper(gpte) != 0 || !guest_range_ok(s, g, psize)) {
		s->rejected++;
		return 0;
	}
	return nv_pte_vram(s->env->hbase + g, (gpte & NV_PTE_READ_ONLY) != 0);
}

static void shadow_write_pte(struct shadow_vm *s, uint64_t table, unsigned j, uint64_t pte)
{
	s->env->ops->wr32(s->env->ctx, table + (uint64_t)j * 8, (uint32_t)pte);
	s->env->ops->wr32(s->env->ctx, table + (uint64_t)j * 8 + 4, (uint32_t)(pte >> 32));
}

/* GPU kind: re-translate entries [first, first + n) of one shadow table. */
static void gpu_translate(struct shadow_vm *s, struct shadow_pde *p, enum table_size t,
			  unsigned first, unsigned n)
{
	uint64_t gtab = (t == TABLE_SMALL ? p->t_small : p->t_large) - 1;
	uint64_t stab = t == TABLE_SMALL ? p->s_small : p->s_large;

	for (unsigned j = first; j < first + n; j++)
		shadow_write_pte(s, stab, j, shadow_pte(s, guest_rd64(s, gtab + (uint64_t)j * 8), t));
}

/* BAR kind: the translation of one BAR page from the guest tables. */
static uint32_t bar_translate_page(struct shadow_vm *s, uint32_t page)
{
	struct shadow_pde *p = &s->pde[page / NV_SPT_ENTRIES];
	unsigned in_pde = page % NV_SPT_ENTRIES;
	uint64_t pte;

	if (p->t_small) {
		pte = shadow_pte(s, guest_rd64(s, p->t_small - 1 + (uint64_t)in_pde * 8), TABLE_SMALL);
		if (pte)
			return (uint32_t)(((nv_pte_addr(pte) - s->env->hbase) >> NV_SPAGE_SHIFT) + 1);
	}
	if (p->t_large) {
		unsigned j = in_pde / SMALL_PER_LARGE;

		pte = shadow_pte(s, guest_rd64(s, p->t_large - 1 + (uint64_t)j * 8), TABLE_LARGE);
		if (pte)
			return (uint32_t)(((nv_pte_addr(pte) - s->env->hbase) >> NV_SPAGE_SHIFT) +
					  in_pde % SMALL_PER_LARGE + 1);
	}
	return 0;
}

/* ---- BAR kind: reverse map (guest page -> BAR pages mapping it) ------------------ */

static void rev_unlink(struct shadow_vm *s, uint32_t page, uint64_t gpfn)
{
	struct shadow_bar_link *l = &s->bar_link[page];

	if (l->prev)
		s->bar_link[l->prev - 1].next = l->next;
	else if (l->next)
		*gpfn_map_find(&s->bar_rev, gpfn) = l->next;
	else
		gpfn_map_del(&s->bar_rev, gpfn);
	if (l->next)
		s->bar_link[l->next - 1].prev = l->prev;
	l->prev = l->next = 0;
}

static int rev_link(struct shadow_vm *s, uint32_t page, uint64_t gpfn)
{
	uint64_t *head = gpfn_map_get(&s->bar_rev, gpfn);

	if (!head)
		return -ENOMEM;
	s->bar_link[page] = (struct shadow_bar_link){ .prev = 0, .next = (uint32_t)*head };
	if (*head)
		s->bar_link[*head - 1].prev = page + 1;
	*head = page + 1;
	return 0;
}

/* One BAR page's translation, its reverse-map entry, and the owner told. */
static void bar_set(struct shadow_vm *s, uint32_t page, uint32_t e)
{
	uint32_t old = s->bar_xlate[page];

	if (old == e)
		return;
	if (old)
		rev_unlink(s, page, old - 1);
	/* A page the reverse map cannot hold could not be found when its guest
	 * page gets tracked: leave it unmapped rather than maybe exposed. */
	if (e && rev_link(s, page, e - 1)) {
		s->rejected++;
		e = 0;
	}
	s->bar_xlate[page] = e;
	if (s->env->ops->bar_changed)
		s->env->ops->bar_changed(s->env->ctx, s, page);
}

static void bar_refresh(struct shadow_vm *s, uint64_t first_page, uint64_t n)
{
	uint64_t end = first_page + n < s->bar_pages ? first_page + n : s->bar_pages;

	for (uint64_t pg = first_page; pg < end; pg++)
		bar_set(s, (uint32_t)pg, bar_translate_page(s, (uint32_t)pg));
}

bool shadow_vm_bar_first(const struct shadow_vm *s, uint64_t gpfn, uint32_t *page)
{
	const uint64_t *head = s->kind == SHADOW_BAR ? gpfn_map_find(&s->bar_rev, gpfn) : NULL;

	if (!head)
		return false;
	*page = (uint32_t)*head - 1;
	return true;
}

bool shadow_vm_bar_next(const struct shadow_vm *s, uint32_t *page)
{
	uint32_t next = s->bar_link[*page].next;

	if (!next)
		return false;
	*page = next - 1;
	return true;
}

bool shadow_vm_bar_next_gpfn(const struct shadow_vm *s, size_t *iter, uint64_t *gpfn)
{
	uint64_t head;

	return s->kind == SHADOW_BAR && gpfn_map_next(&s->bar_rev, iter, gpfn, &head);
}

/* ---- PDE-level sync ------------------------------------------------------------- */

static void drop_table(struct shadow_vm *s, struct shadow_pde *p, enum table_size t)
{
	uint64_t *tracked = t == TABLE_SMALL ? &p->t_small : &p->t_large;
	uint64_t *shadow = t == TABLE_SMALL ? &p->s_small : &p->s_large;

	if (*tracked)
		svm_track_range(s, *tracked - 1, (uint64_t)table_entries(t) * 8, false);
	*tracked = 0;
	if (*shadow)
		s->env->ops->free(s->env->ctx, *shadow, (uint64_t)table_entries(t) * 8);
	*shadow = 0;
}

static int take_table(struct shadow_vm *s, struct shadow_pde *p, enum table_size t, uint32_t word)
{
	uint64_t len = (uint64_t)table_entries(t) * 8;
	uint64_t gaddr = nv_pde_word_addr(word);
	uint64_t *shadow = t == TABLE_SMALL ? &p->s_small : &p->s_large;
	unsigned aper = word & NV_PDE_APER_MASK;

	if (aper == NV_APER_NONE)
		return 0;
	if (aper != NV_APER_VRAM || !guest_range_ok(s, gaddr, len)) {
		s->rejected++;
		return 0;
	}
	if (s->kind == SHADOW_GPU && s->env->ops->alloc(s->env->ctx, len, shadow))
		return -ENOMEM;
	svm_track_range(s, gaddr, len, true);
	*(t == TABLE_SMALL ? &p->t_small : &p->t_large) = gaddr + 1;
	if (s->kind == SHADOW_GPU)
		gpu_translate(s, p, t, 0, table_entries(t));
	return 0;
}

static void write_shadow_pde(struct shadow_vm *s, unsigned i)
{
	struct shadow_pde *p = &s->pde[i];
	uint64_t at = s->spd + (uint64_t)i * 8;

	s->env->ops->wr32(s->env->ctx, at, p->s_large ? nv_pde_word(p->s_large, NV_APER_VRAM) : 0);
	s->env->ops->wr32(s->env->ctx, at + 4, p->s_small ? nv_pde_word(p->s_small, NV_APER_VRAM) : 0);
}

static bool is_hole(const struct shadow_vm *s, unsigned i)
{
	return s->kind == SHADOW_GPU && s->env->hole_table && i == s->env->hole_pde;
}

/* The hole PDE belongs to the daemon: the guest's entry there is ignored. */
static void sync_hole(struct shadow_vm *s, unsigned i, uint64_t guest_words)
{
	uint64_t at = s->spd + (uint64_t)i * 8;

	if (guest_words != s->pde[i].g_large && guest_words)
		s->rejected++;
	s->pde[i].g_large = (uint32_t)guest_words;
	s->env->ops->wr32(s->env->ctx, at, 0);
	s->env->ops->wr32(s->env->ctx, at + 4, nv_pde_word(s->env->hole_table, NV_APER_VRAM));
}

static void set_live(struct shadow_vm *s, unsigned i)
{
	uint64_t bit = 1ull << (i % 64);

	if (s->pde[i].t_small || s->pde[i].t_large)
		s->live[i / 64] |= bit;
	else
		s->live[i / 64] &= ~bit;
}

static int sync_pde(struct shadow_vm *s, unsigned i, bool force)
{
	struct shadow_pde *p = &s->pde[i];
	uint64_t words = guest_rd64(s, s->gpd + (uint64_t)i * 8);
	uint32_t gl = (uint32_t)words, gs = (uint32_t)(words >> 32);
	int err;

	if (is_hole(s, i)) {
		sync_hole(s, i, words);
		return 0;
	}

	if (!force && gl == p->g_large && gs == p->g_small)
		return 0;
	drop_table(s, p, TABLE_SMALL);
	drop_table(s, p, TABLE_LARGE);
	p->g_large = gl;
	p->g_small = gs;
	err = take_table(s, p, TABLE_SMALL, gs);
	if (!err)
		err = take_table(s, p, TABLE_LARGE, gl);
	set_live(s, i);
	if (s->kind == SHADOW_GPU)
		write_shadow_pde(s, i);
	else
		bar_refresh(s, (uint64_t)i * NV_SPT_ENTRIES, NV_SPT_ENTRIES);
	return err;
}

/* ---- dirty blocks ------------------------------------------------------------------ */

/* Bits of a page's dirty mask for its bytes [off, off + len); len > 0, inside the page. */
static uint64_t block_bits(uint64_t off, uint64_t len)
{
	unsigned first = (unsigned)(off / DIRTY_BLOCK), last = (unsigned)((off + len - 1) / DIRTY_BLOCK);

	return (~0ull >> (63 - last)) & (~0ull << first);
}

static uint64_t dirty_blocks(const struct shadow_vm *s, uint64_t gpfn)
{
	const uint64_t *d = gpfn_map_find(&s->dirty, gpfn);

	return d ? *d : 0;
}

static void mark_dirty(struct shadow_vm *s, uint64_t gpfn, uint64_t bits)
{
	uint64_t *d = gpfn_map_get(&s->dirty, gpfn);

	/* Dirty marking cannot fail in a way that loses safety: on ENOMEM the
	 * next sync rebuilds everything. */
	if (!d)
		s->need_full = true;
	else
		*d |= bits;
}

/* Take the lowest run of consecutive set bits out of *m: false if none is left. */
static bool next_run(uint64_t *m, unsigned *first, unsigned *n)
{
	uint64_t clear_from;

	if (!*m)
		return false;
	*first = (unsigned)__builtin_ctzll(*m);
	clear_from = ~(*m >> *first);
	*n = clear_from ? (unsigned)__builtin_ctzll(clear_from) : 64 - *first;
	*m = *first + *n >= 64 ? 0 : *m & (~0ull << (*first + *n));
	return true;
}

/* ---- sync ------------------------------------------------------------------------- */

static int sync_pdes(struct shadow_vm *s, unsigned first, unsigned n, bool force)
{
	int err = 0;

	for (unsigned i = first; i < first + n && i < s->npde && !err; i++)
		err = sync_pde(s, i, force);
	return err;
}

/* The PDEs in dirty blocks of the directory (all of them when need_full). */
static int sync_directory(struct shadow_vm *s)
{
	unsigned pd_pages = (s->npde * 8 + NV_SPAGE_SIZE - 1) / NV_SPAGE_SIZE;
	unsigned b, n;
	int err = 0;

	for (unsigned pg = 0; pg < pd_pages && !err; pg++) {
		uint64_t bits = s->need_full ? ~0ull : dirty_blocks(s, (s->gpd >> NV_SPAGE_SHIFT) + pg);

		if (bits)
			s->units++;
		while (!err && next_run(&bits, &b, &n))
			err = sync_pdes(s, pg * PTES_PER_PAGE + b * ENTRIES_PER_BLOCK, n * ENTRIES_PER_BLOCK,
					s->need_full);
	}
	return err;
}

/* Entries [first, first + n) of table t of PDE i changed in the guest. */
static void retranslate(struct shadow_vm *s, unsigned i, enum table_size t, unsigned first, unsigned n)
{
	uint64_t base = (uint64_t)i * NV_SPT_ENTRIES;

	if (s->kind == SHADOW_GPU)
		gpu_translate(s, &s->pde[i], t, first, n);
	else if (t == TABLE_SMALL)
		bar_refresh(s, base + first, n);
	else
		bar_refresh(s, base + (uint64_t)first * SMALL_PER_LARGE, (uint64_t)n * SMALL_PER_LARGE);
}

static uint64_t tracked_table(const struct shadow_pde *p, enum table_size t)
{
	return t == TABLE_SMALL ? p->t_small : p->t_large;
}

/* The entries of table t of PDE i under the dirty blocks of guest page gpfn. */
static void sync_table_page(struct shadow_vm *s, unsigned i, enum table_size t, uint64_t gpfn, uint64_t bits)
{
	uint64_t tab = tracked_table(&s->pde[i], t) - 1, end = tab + (uint64_t)table_entries(t) * 8;
	unsigned b, n;

	s->units++;
	while (next_run(&bits, &b, &n)) {
		uint64_t lo = (gpfn << NV_SPAGE_SHIFT) + (uint64_t)b * DIRTY_BLOCK;
		uint64_t hi = lo + (uint64_t)n * DIRTY_BLOCK;

		lo = lo > tab ? lo : tab;
		hi = hi < end ? hi : end;
		if (lo < hi)
			retranslate(s, i, t, (unsigned)((lo - tab) / 8),
				    (unsigned)((hi - tab + 7) / 8 - (lo - tab) / 8));
	}
}

struct dirty_page {
	uint64_t gpfn, bits;
};

/* Table t of PDE i against the dirty pages: those of list when given, else the dirty map's. */
static void sync_table(struct shadow_vm *s, unsigned i, enum table_size t,
		       const struct dirty_page *list, size_t n)
{
	uint64_t tab = tracked_table(&s->pde[i], t) - 1;
	uint64_t first = tab >> NV_SPAGE_SHIFT;
	uint64_t last = (tab + (uint64_t)table_entries(t) * 8 - 1) >> NV_SPAGE_SHIFT;

	if (!tracked_table(&s->pde[i], t))
		return;
	if (list) {
		for (size_t k = 0; k < n; k++)
			if (list[k].gpfn >= first && list[k].gpfn <= last)
				sync_table_page(s, i, t, list[k].gpfn, list[k].bits);
		return;
	}
	for (uint64_t pfn = first; pfn <= last; pfn++) {
		uint64_t bits = dirty_blocks(s, pfn);

		if (bits)
			sync_table_page(s, i, t, pfn, bits);
	}
}

static unsigned live_words(const struct shadow_vm *s)
{
	return (s->npde + 63) / 64;
}

/* What the dirty blocks cover in every table, visiting only the PDEs that have one. */
static void sync_tables(struct shadow_vm *s)
{
	struct dirty_page list[DIRTY_LIST_MAX];
	bool listed = s->dirty.used <= DIRTY_LIST_MAX;
	size_t n = 0, it = 0;
	uint64_t gpfn, bits;

	while (listed && gpfn_map_next(&s->dirty, &it, &gpfn, &bits))
		list[n++] = (struct dirty_page){ gpfn, bits };
	for (unsigned w = 0; w < live_words(s); w++) {
		for (uint64_t m = s->live[w]; m; m &= m - 1) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(m);

			sync_table(s, i, TABLE_SMALL, listed ? list : NULL, n);
			sync_table(s, i, TABLE_LARGE, listed ? list : NULL, n);
		}
	}
}

int shadow_vm_sync(struct shadow_vm *s)
{
	int err;

	if (!s->gpd_ok)
		return 0;
	err = sync_directory(s);
	if (!err && s->dirty.used)
		sync_tables(s);
	if (s->dirty.used)
		gpfn_map_clear(&s->dirty);
	s->need_full = false;
	return err;
}

void shadow_vm_mark_all_dirty(struct shadow_vm *s)
{
	size_t it = 0;
	uint64_t gpfn, n;

	while (gpfn_map_next(&s->mine, &it, &gpfn, &n))
		mark_dirty(s, gpfn, ~0ull);
}

bool shadow_vm_written(struct shadow_vm *s, uint64_t gaddr, unsigned len)
{
	uint64_t gpfn = gaddr >> NV_SPAGE_SHIFT, off = gaddr & (NV_SPAGE_SIZE - 1);

	if (!len || !gpfn_map_find(&s->mine, gpfn))
		return false;
	mark_dirty(s, gpfn, block_bits(off, len < NV_SPAGE_SIZE - off ? len : NV_SPAGE_SIZE - off));
	return true;
}

/* ---- lifecycle --------------------------------------------------------------------- */

/* The shadow's memory (calloc'ed, so unmade parts are NULL and free fine). */
static void free_parts(struct shadow_vm *s)
{
	gpfn_map_fini(&s->bar_rev);
	gpfn_map_fini(&s->mine);
	gpfn_map_fini(&s->dirty);
	free(s->bar_link);
	free(s->bar_xlate);
	free(s->live);
	free(s->pde);
	free(s);
}

int shadow_vm_create(const struct shadow_env *env, enum shadow_kind kind, uint64_t gpd,
		     uint32_t bar_pages, struct shadow_vm **out)
{
	struct shadow_vm *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->kind = kind;
	s->env = env;
	s->gpd = gpd;
	s->need_full = true;
	s->npde = kind == SHADOW_GPU ? NV_PDE_COUNT :
		  (unsigned)(((uint64_t)bar_pages + NV_SPT_ENTRIES - 1) / NV_SPT_ENTRIES);
	s->bar_pages = bar_pages;
	s->pde = calloc(s->npde ? s->npde : 1, sizeof(*s->pde));
	s->live = calloc(live_words(s) ? live_words(s) : 1, sizeof(*s->live));
	if (!s->pde || !s->live || gpfn_map_init(&s->dirty) || gpfn_map_init(&s->mine))
		goto err_free;
	if (kind == SHADOW_BAR && (!(s->bar_xlate = calloc(bar_pages ? bar_pages : 1, sizeof(uint32_t))) ||
				   !(s->bar_link = calloc(bar_pages ? bar_pages : 1, sizeof(*s->bar_link))) ||
				   gpfn_map_init(&s->bar_rev)))
		goto err_free;
	if (kind == SHADOW_GPU && env->ops->alloc(env->ctx, NV_PD_SIZE, &s->spd))
		goto err_free;
	s->gpd_ok = !(gpd & (NV_SPAGE_SIZE - 1)) && guest_range_ok(s, gpd, (uint64_t)s->npde * 8);
	if (s->gpd_ok)
		svm_track_range(s, gpd, (uint64_t)s->npde * 8, true);
	else
		s->rejected++;
	*out = s;
	return 0;

err_free:
	free_parts(s);
	return -ENOMEM;
}

void shadow_vm_destroy(struct shadow_vm *s)
{
	size_t iter = 0;
	uint64_t gpfn, n;

	if (!s)
		return;
	for (unsigned i = 0; i < s->npde; i++) {
		drop_table(s, &s->pde[i], TABLE_SMALL);
		drop_table(s, &s->pde[i], TABLE_LARGE);
	}
	while (gpfn_map_next(&s->mine, &iter, &gpfn, &n))
		page_track_put(s->env->track, gpfn, PAGE_PT);
	if (s->spd)
		s->env->ops->free(s->env->ctx, s->spd, NV_PD_SIZE);
	free_parts(s);
}

bool shadow_vm_guest_translate(const struct shadow_vm *s, uint64_t va, uint64_t *gphys)
{
	uint64_t pde, in_pde = va & ((1ull << NV_PDE_SHIFT) - 1), pte = 0;
	uint32_t word;

	if (!s->gpd_ok || va >= NV_VA_LIMIT)
		return false;
	pde = guest_rd64(s, s->gpd + (va >> NV_PDE_SHIFT) * 8);
	word = (uint32_t)(pde >> 32);
	if ((word & NV_PDE_APER_MASK) == NV_APER_VRAM &&
	    guest_range_ok(s, nv_pde_word_addr(word), NV_SPT_SIZE))
		pte = guest_rd64(s, nv_pde_word_addr(word) + (in_pde >> NV_SPAGE_SHIFT) * 8);
	if (pte & NV_PTE_VALID) {
		*gphys = nv_pte_addr(pte) + (va & (NV_SPAGE_SIZE - 1));
	} else {
		word = (uint32_t)pde;
		if ((word & NV_PDE_APER_MASK) != NV_APER_VRAM ||
		    !guest_range_ok(s, nv_pde_word_addr(word), NV_LPT_SIZE))
			return false;
		pte = guest_rd64(s, nv_pde_word_addr(word) + (in_pde >> NV_LPAGE_SHIFT) * 8);
		if (!(pte & NV_PTE_VALID))
			return false;
		*gphys = (nv_pte_addr(pte) & ~(uint64_t)(NV_LPAGE_SIZE - 1)) + (va & (NV_LPAGE_SIZE - 1));
	}
	return nv_pte_aper(pte) == 0 && guest_range_ok(s, *gphys, 1);
}

bool shadow_vm_bar_lookup(const struct shadow_vm *s, uint64_t off, uint64_t *gphys)
{
	uint64_t page = off >> NV_SPAGE_SHIFT;

	if (s->kind != SHADOW_BAR || page >= s->bar_pages || !s->bar_xlate[page])
		return false;
	*gphys = ((uint64_t)(s->bar_xlate[page] - 1) << NV_SPAGE_SHIFT) | (off & (NV_SPAGE_SIZE - 1));
	return true;
}

/* ---- isolation checker ------------------------------------------------------------ */

static uint64_t host_rd64(const struct shadow_vm *s, uint64_t addr)
{
	return s->env->ops->rd32(s->env->ctx, addr) |
	       (uint64_t)s->env->ops->rd32(s->env->ctx, addr + 4) << 32;
}

static int check_table(const struct shadow_vm *s, unsigned i, uint32_t word, enum table_size t,
		       char *why, size_t len)
{
	uint64_t tab = nv_pde_word_addr(word), psize = t == TABLE_SMALL ? NV_SPAGE_SIZE : NV_LPAGE_SIZE;
	uint64_t lo = s->env->hbase, hi = s->env->hbase + s->env->gsize;

	/* The hole may map the daemon's pages for this VM, and nothing else. */
	if (is_hole(s, i)) {
		lo = s->env->hole_base;
		hi = s->env->hole_base + s->env->hole_size;
	}

	if ((word & NV_PDE_APER_MASK) == NV_APER_NONE)
		return 0;
	if ((word & NV_PDE_APER_MASK) != NV_APER_VRAM ||
	    !s->env->ops->is_daemon(s->env->ctx, tab, (uint64_t)table_entries(t) * 8)) {
		snprintf(why, len, "shadow PDE %u points at a table outside daemon VRAM (0x%08x)", i, word);
		return -1;
	}
	for (unsigned j = 0; j < table_entries(t); j++) {
		uint64_t pte = host_rd64(s, tab + (uint64_t)j * 8);
		uint64_t a = nv_pte_addr(pte) & ~(psize - 1);

		if ((pte & NV_PTE_VALID) && (nv_pte_aper(pte) != 0 || a < lo || a + psize > hi)) {
			snprintf(why, len, "shadow PTE %u/%u maps 0x%llx, outside partition [0x%llx, 0x%llx)",
				 i, j, (unsigned long long)a, (unsigned long long)lo, (unsigned long long)hi);
			return -1;
		}
	}
	return 0;
}

/* Every BAR page on the chain of the guest page it maps, and on no other. */
static int check_bar_rev(const struct shadow_vm *s, char *why, size_t len)
{
	size_t it = 0, linked = 0, mapped = 0;
	uint64_t gpfn;
	uint32_t page;

	while (shadow_vm_bar_next_gpfn(s, &it, &gpfn)) {
		for (bool more = shadow_vm_bar_first(s, gpfn, &page); more; more = shadow_vm_bar_next(s, &page)) {
			if (s->bar_xlate[page] != gpfn + 1 || ++linked > s->bar_pages) {
				snprintf(why, len, "BAR page %u is listed as mapping guest page %llu, but maps %d",
					 page, (unsigned long long)gpfn, (int)s->bar_xlate[page] - 1);
				return -1;
			}
		}
	}
	for (uint32_t p = 0; p < s->bar_pages; p++)
		mapped += s->bar_xlate[p] != 0;
	if (linked != mapped) {
		snprintf(why, len, "%zu BAR pages are mapped but %zu are in the reverse map", mapped, linked);
		return -1;
	}
	return 0;
}

static int check_bar(const struct shadow_vm *s, char *why, size_t len)
{
	for (uint32_t p = 0; p < s->bar_pages; p++) {
		if (s->bar_xlate[p] && ((uint64_t)s->bar_xlate[p] << NV_SPAGE_SHIFT) > s->env->gsize) {
			snprintf(why, len, "BAR page %u maps guest page %u beyond the partition",
				 p, s->bar_xlate[p] - 1);
			return -1;
		}
	}
	return check_bar_rev(s, why, len);
}

int shadow_vm_check(const struct shadow_vm *s, char *why, size_t len)
{
	if (s->kind == SHADOW_BAR)
		return check_bar(s, why, len);
	for (unsigned i = 0; i < s->npde; i++) {
		uint64_t pde = host_rd64(s, s->spd + (uint64_t)i * 8);

		if (check_table(s, i, (uint32_t)(pde >> 32), TABLE_SMALL, why, len) ||
		    check_table(s, i, (uint32_t)pde, TABLE_LARGE, why, len))
			return -1;
	}
	return 0;
}
