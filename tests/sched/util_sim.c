/*
 * The policy simulator (util_sim.h): an event loop over a simulated clock.
 * Every step handles, in this order, a GPU completion, workload arrivals
 * and removals, the tick, then asks the policy as the mechanism would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util_sim.h"

/* A policy that keeps releasing at one instant is stuck in a loop. */
#define MAX_RELEASES_PER_STEP 1000000u

struct sub {
	uint64_t at;            /* enqueue time, or arrival time in `arrivals` */
	uint64_t ns;
	unsigned vm;            /* in `done`: whose */
	bool giant;
};

/* A growable FIFO of submissions. */
struct ring {
	struct sub *buf;
	unsigned cap, head, count;
};

struct vm_state {
	unsigned release_cap;   /* room in res.release_at */
	struct ring queue;      /* queued, oldest first */
	struct ring flight;     /* released, not yet started on the GPU */
	struct ring arrivals;   /* submissions the workload will make, by time */
	bool giant_done;
	bool removing;          /* queue dropped, waiting for in-flight work */
};

struct sim_private {
	struct vm_state vs[SIM_MAX_VMS];
	struct ring done;       /* finished on the GPU, not yet seen (polling) */
	uint64_t now, next_tick, retry_at, next_poll;
	bool gpu_busy;
	unsigned gpu_vm, rr;
	int last_vm;
	struct sub gpu_sub;
	uint64_t gpu_start, gpu_end;
};

static void ring_push(struct ring *r, struct sub s)
{
	if (r->count == r->cap) {
		unsigned cap = r->cap ? r->cap * 2 : 16;
		struct sub *buf = calloc(cap, sizeof(*buf));

		assert_non_null(buf);
		for (unsigned i = 0; i < r->count; i++)
			buf[i] = r->buf[(r->head + i) % r->cap];
		free(r->buf);
		r->buf = buf;
		r->cap = cap;
		r->head = 0;
	}
	r->buf[(r->head + r->count) % r->cap] = s;
	r->count++;
}

static struct sub *ring_front(struct ring *r)
{
	return r->count ? &r->buf[r->head] : NULL;
}

static struct sub ring_pop(struct ring *r)
{
	struct sub s = r->buf[r->head];

	r->head = (r->head + 1) % r->cap;
	r->count--;
	return s;
}

static unsigned vm_index(const struct sim *m, const struct sched_vm *vm)
{
	return (unsigned)(vm - m->vm);
}

static bool is_listed(const struct sim *m, const struct sched_vm *vm)
{
	for (unsigned i = 0; i < m->st.n; i++)
		if (m->st.vms[i] == vm)
			return true;
	return false;
}

static void note_credit(struct sim *m, const struct sched_vm *vm)
{
	struct sim_vm_result *r = &m->res[vm_index(m, vm)];

	if (vm->credit < r->min_credit)
		r->min_credit = vm->credit;
	if (vm->credit > r->max_credit)
		r->max_credit = vm->credit;
}

/* ---- windows ----------------------------------------------------------- */

unsigned sim_window(const struct sim *m, uint64_t t)
{
	unsigned w = (unsigned)(t / m->cfg.window_ns);

	return w < m->nwindows ? w : m->nwindows - 1;
}

/* Credit vm's GPU time in [from, to) to the windows it overlaps. */
static void record_gpu_time(struct sim *m, unsigned vm, uint64_t from, uint64_t to)
{
	while (from < to) {
		unsigned w = sim_window(m, from);
		uint64_t end = (uint64_t)(w + 1) * m->cfg.window_ns;
		uint64_t upto = to < end || w == m->nwindows - 1 ? to : end;

		m->res[vm].window_ns[w] += upto - from;
		m->busy_ns += upto - from;
		from = upto;
	}
}

/* ---- workload ---------------------------------------------------------- */

static bool still_submitting(const struct sim *m, unsigned i)
{
	const struct sim_vm_cfg *c = &m->cfg.vm[i];

	return !m->priv->vs[i].removing && !m->res[i].removed &&
	       (!c->stop_ns || m->priv->now < c->stop_ns);
}

static void enqueue(struct sim *m, unsigned i)
{
	struct vm_state *vs = &m->priv->vs[i];
	const struct sim_vm_cfg *c = &m->cfg.vm[i];
	struct sub s = { .at = m->priv->now, .ns = c->kernel_ns };

	if (c->giant_ns && !vs->giant_done && m->priv->now >= c->giant_at) {
		s.ns = c->giant_ns;
		s.giant = true;
		vs->giant_done = true;
	}
	ring_push(&vs->queue, s);
	if (m->vm[i].queued++ == 0)
		m->vm[i].first_queued_at = s.at;
}

static void arrive(struct sim *m)
{
	for (unsigned i = 0; i < m->cfg.nvms; i++) {
		struct vm_state *vs = &m->priv->vs[i];
		struct sub *a;

		while ((a = ring_front(&vs->arrivals)) && a->at <= m->priv->now) {
			ring_pop(&vs->arrivals);
			if (still_submitting(m, i))
				enqueue(m, i);
		}
	}
}

/* Like sched_client_remove(): drop the queue, wait for in-flight work. */
static void finish_removal(struct sim *m, unsigned i)
{
	struct sched_vm *vm = &m->vm[i];

	if (m->cfg.policy->vm_removed)
		m->cfg.policy->vm_removed(&m->st, vm);
	for (unsigned k = 0; k < m->st.n; k++) {
		if (m->st.vms[k] == vm) {
			memmove(&m->st.vms[k], &m->st.vms[k + 1],
				(m->st.n - k - 1) * sizeof(m->st.vms[0]));
			m->st.n--;
			break;
		}
	}
	if (m->st.running == vm)
		m->st.running = NULL;
	m->priv->vs[i].removing = false;
	m->res[i].removed = true;
}

static bool remove_due(struct sim *m)
{
	bool any = false;

	for (unsigned i = 0; i < m->cfg.nvms; i++) {
		struct vm_state *vs = &m->priv->vs[i];

		if (!m->cfg.vm[i].remove_at || m->res[i].removed || vs->removing ||
		    m->cfg.vm[i].remove_at > m->priv->now)
			continue;
		vs->removing = true;
		vs->queue.count = 0;
		vs->arrivals.count = 0;
		m->vm[i].queued = 0;
		m->vm[i].first_queued_at = 0;
		if (!m->vm[i].in_flight)
			finish_removal(m, i);
		any = true;
	}
	return any;
}

/* ---- GPU --------------------------------------------------------------- */

static void gpu_start_next(struct sim *m)
{
	struct sim_private *p = m->priv;

	if (p->gpu_busy)
		return;
	for (unsigned k = 0; k < m->cfg.nvms; k++) {
		unsigned i = (p->rr + k) % m->cfg.nvms;

		if (!p->vs[i].flight.count)
			continue;
		p->gpu_sub = ring_pop(&p->vs[i].flight);
		p->gpu_vm = i;
		p->gpu_start = p->now;
		if (p->last_vm != (int)i) {
			if (p->last_vm >= 0)
				m->switches++;
			p->gpu_start += m->cfg.switch_ns;
		}
		p->gpu_end = p->gpu_start + p->gpu_sub.ns;
		p->gpu_busy = true;
		p->last_vm = (int)i;
		p->rr = (i + 1) % m->cfg.nvms;
		return;
	}
}

/* The mechanism learns of a completion: in flight no more, charged. */
static void observe_completion(struct sim *m, struct sub done)
{
	unsigned i = done.vm;
	struct sched_vm *vm = &m->vm[i];

	vm->in_flight--;
	if (m->priv->vs[i].removing) {
		if (!vm->in_flight)
			finish_removal(m, i);
	} else if (!m->res[i].removed) {
		vm->gpu_ns += done.ns;
		m->res[i].gpu_ns += done.ns;
		m->cfg.policy->charge(&m->st, vm, done.ns, m->priv->now);
		note_credit(m, vm);
	}
	if (m->st.running && !m->st.running->in_flight && !m->st.running->queued)
		m->st.running = NULL;
}

static void observe_completions(struct sim *m)
{
	while (m->priv->done.count)
		observe_completion(m, ring_pop(&m->priv->done));
}

/*
 * The GPU finished a submission: it moves on at once, the guest sees its
 * fence at once (and submits again think_ns later), the mechanism sees it
 * now or, when polling, at its next poll.
 */
static void gpu_complete(struct sim *m)
{
	struct sim_private *p = m->priv;
	unsigned i = p->gpu_vm;
	struct sub done = { .ns = p->gpu_end - p->gpu_start, .vm = i };

	p->gpu_busy = false;
	record_gpu_time(m, i, p->gpu_start, p->gpu_end);
	m->res[i].completions++;
	if (p->gpu_sub.giant)
		m->res[i].giant_end = p->now;
	if (still_submitting(m, i))
		ring_push(&p->vs[i].arrivals, (struct sub){ .at = p->now + m->cfg.vm[i].think_ns });
	if (m->cfg.poll_ns)
		ring_push(&p->done, done);
	else
		observe_completion(m, done);
}

/* ---- mechanism --------------------------------------------------------- */

static bool any_queued(const struct sim *m)
{
	for (unsigned i = 0; i < m->st.n; i++)
		if (m->st.vms[i]->queued)
			return true;
	return false;
}

static void note_release(struct sim *m, unsigned i)
{
	struct sim_vm_result *r = &m->res[i];
	struct vm_state *vs = &m->priv->vs[i];

	if (r->releases == vs->release_cap) {
		vs->release_cap = vs->release_cap ? vs->release_cap * 2 : 1024;
		r->release_at = realloc(r->release_at, vs->release_cap * sizeof(uint64_t));
		assert_non_null(r->release_at);
	}
	r->release_at[r->releases++] = m->priv->now;
}

static void release(struct sim *m, struct sched_vm *vm)
{
	struct sim_private *p = m->priv;
	unsigned i = vm_index(m, vm);
	struct sub s = ring_pop(&p->vs[i].queue);
	unsigned w = sim_window(m, p->now);
	uint64_t wait = p->now - s.at;

	vm->queued--;
	vm->first_queued_at = p->vs[i].queue.count ? ring_front(&p->vs[i].queue)->at : 0;
	vm->in_flight++;
	ring_push(&p->vs[i].flight, s);
	note_release(m, i);
	if (wait > m->res[i].window_max_wait_ns[w])
		m->res[i].window_max_wait_ns[w] = wait;
	if (m->st.running != vm) {
		m->st.running = vm;
		m->st.running_since = p->now;
	}
}

/* Serializing policies never have two VMs' work on the GPU. */
static void check_serialized(const struct sim *m)
{
	unsigned busy = 0;

	for (unsigned i = 0; i < m->cfg.nvms; i++)
		if (m->vm[i].in_flight && !m->priv->vs[i].removing)
			busy++;
	if (busy > 1)
		fail_msg("%s: two VMs in flight at %llu", m->cfg.policy->name,
			 (unsigned long long)m->priv->now);
}

static struct sched_vm *ask(struct sim *m)
{
	struct sim_private *p = m->priv;
	uint64_t retry = 0;
	struct sched_vm *vm = m->cfg.policy->pick(&m->st, p->now, &retry);

	m->picks++;
	if (!vm) {
		m->null_picks++;
		if (retry && retry <= p->now)
			fail_msg("%s: retry_at %llu is not after now %llu", m->cfg.policy->name,
				 (unsigned long long)retry, (unsigned long long)p->now);
		p->retry_at = retry;
		return NULL;
	}
	if (!is_listed(m, vm) || !vm->queued)
		fail_msg("%s picked %s, which has nothing queued or was removed",
			 m->cfg.policy->name, vm->name);
	note_credit(m, vm);
	return vm;
}

static void dispatch_serial(struct sim *m)
{
	for (unsigned n = 0; n < MAX_RELEASES_PER_STEP; n++) {
		struct sched_vm *run = m->st.running, *vm;

		if (!any_queued(m) || (run && run->in_flight && !run->queued))
			return;
		vm = ask(m);
		if (!vm)
			return;
		/* Another VM's turn: it starts once the running VM has drained. */
		if (run && vm != run && run->in_flight)
			return;
		release(m, vm);
		check_serialized(m);
	}
	fail_msg("%s: no end to releases at one instant", m->cfg.policy->name);
}

static void dispatch_all(struct sim *m)
{
	for (unsigned n = 0; n < MAX_RELEASES_PER_STEP; n++) {
		struct sched_vm *vm;

		if (!any_queued(m) || !(vm = ask(m)))
			return;
		release(m, vm);
	}
	fail_msg("%s: no end to releases at one instant", m->cfg.policy->name);
}

static void dispatch(struct sim *m)
{
	if (m->cfg.policy->serialize)
		dispatch_serial(m);
	else
		dispatch_all(m);
}

/* ---- event loop ------------------------------------------------------- */

static bool anything_in_flight(const struct sim *m)
{
	for (unsigned i = 0; i < m->cfg.nvms; i++)
		if (m->vm[i].in_flight)
			return true;
	return false;
}

static uint64_t next_event(const struct sim *m)
{
	const struct sim_private *p = m->priv;
	uint64_t t = p->next_tick;

	if (m->cfg.poll_ns && anything_in_flight(m) && p->next_poll < t)
		t = p->next_poll;

	if (p->gpu_busy && p->gpu_end < t)
		t = p->gpu_end;
	if (p->retry_at && p->retry_at < t)
		t = p->retry_at;
	for (unsigned i = 0; i < m->cfg.nvms; i++) {
		const struct ring *a = &p->vs[i].arrivals;
		uint64_t rm = m->cfg.vm[i].remove_at;

		if (a->count && a->buf[a->head].at < t)
			t = a->buf[a->head].at;
		if (rm && !m->res[i].removed && !p->vs[i].removing && rm < t)
			t = rm;
	}
	return t;
}

/* Polling, like gpu_sched.c: completions are seen at polls only. */
static bool poll_due(struct sim *m)
{
	struct sim_private *p = m->priv;

	if (!m->cfg.poll_ns || p->now < p->next_poll)
		return false;
	p->next_poll = (p->now / m->cfg.poll_ns + 1) * m->cfg.poll_ns;
	observe_completions(m);
	return true;
}

/* One instant: returns whether the mechanism has reason to ask the policy. */
static bool step(struct sim *m)
{
	struct sim_private *p = m->priv;
	bool event = false;

	if (p->gpu_busy && p->gpu_end == p->now) {
		gpu_complete(m);
		event = !m->cfg.poll_ns;
	}
	event |= poll_due(m);
	unsigned before = 0, after = 0;

	for (unsigned i = 0; i < m->cfg.nvms; i++)
		before += m->vm[i].queued;
	arrive(m);
	for (unsigned i = 0; i < m->cfg.nvms; i++)
		after += m->vm[i].queued;
	event |= after != before;
	event |= remove_due(m);
	if (p->now == p->next_tick) {
		if (m->cfg.policy->tick)
			m->cfg.policy->tick(&m->st, p->now);
		p->next_tick += m->st.params.tick_ns;
	}
	if (p->retry_at && p->now >= p->retry_at) {
		p->retry_at = 0;
		event = true;
	}
	/* gpu_sched.c asks at every wake-up, ticks included. */
	return event || m->cfg.poll_ns;
}

static void setup(struct sim *m, const struct sim_cfg *cfg)
{
	m->cfg = *cfg;
	if (!m->cfg.window_ns)
		m->cfg.window_ns = 500 * SIM_MS;
	m->nwindows = (unsigned)((m->cfg.duration_ns + m->cfg.window_ns - 1) / m->cfg.window_ns);
	m->priv = calloc(1, sizeof(*m->priv));
	assert_non_null(m->priv);
	m->priv->last_vm = -1;
	m->st.params = cfg->params;
	m->st.policy = cfg->policy;
	assert_int_equal(cfg->policy->init(&m->st), 0);
	if (!m->st.params.tick_ns)
		m->st.params.tick_ns = SCHED_DEFAULT_TICK_NS;
	for (unsigned i = 0; i < cfg->nvms; i++) {
		const struct sim_vm_cfg *c = &cfg->vm[i];
		struct sched_vm *vm = &m->vm[i];
		unsigned depth = c->depth ? c->depth : 4;

		vm->id = i + 1;
		snprintf(vm->name, sizeof(vm->name), "%s", c->name ? c->name : "vm");
		vm->weight = c->weight ? c->weight : SCHED_DEFAULT_WEIGHT;
		vm->cap = c->cap;
		m->res[i].window_ns = calloc(m->nwindows, sizeof(uint64_t));
		m->res[i].window_max_wait_ns = calloc(m->nwindows, sizeof(uint64_t));
		assert_non_null(m->res[i].window_ns);
		assert_non_null(m->res[i].window_max_wait_ns);
		m->st.vms[m->st.n++] = vm;
		cfg->policy->vm_added(&m->st, vm, 0);
		m->res[i].min_credit = vm->credit;
		m->res[i].max_credit = vm->credit;
		for (unsigned k = 0; k < depth; k++)
			ring_push(&m->priv->vs[i].arrivals, (struct sub){ .at = c->start_ns });
	}
}

struct sim *sim_run(const struct sim_cfg *cfg)
{
	struct sim *m = calloc(1, sizeof(*m));
	struct sim_private *p;

	assert_non_null(m);
	assert_true(cfg->nvms <= SIM_MAX_VMS && cfg->duration_ns > 0);
	setup(m, cfg);
	p = m->priv;
	while (p->now < m->cfg.duration_ns) {
		uint64_t t = next_event(m);

		if (t >= m->cfg.duration_ns)
			break;
		p->now = t;
		if (step(m))
			dispatch(m);
		gpu_start_next(m);
	}
	/* Work still running at the end counts up to the end. */
	if (p->gpu_busy && p->gpu_start < m->cfg.duration_ns)
		record_gpu_time(m, p->gpu_vm, p->gpu_start, m->cfg.duration_ns);
	return m;
}

void sim_free(struct sim *m)
{
	if (!m)
		return;
	if (m->cfg.policy->fini)
		m->cfg.policy->fini(&m->st);
	for (unsigned i = 0; i < SIM_MAX_VMS; i++) {
		free(m->res[i].window_ns);
		free(m->res[i].window_max_wait_ns);
		free(m->res[i].release_at);
		free(m->priv->vs[i].queue.buf);
		free(m->priv->vs[i].flight.buf);
		free(m->priv->vs[i].arrivals.buf);
	}
	free(m->priv->done.buf);
	free(m->priv);
	free(m);
}

/* ---- figures ----------------------------------------------------------- */

static uint64_t vm_time(const struct sim *m, unsigned vm, unsigned from, unsigned to)
{
	uint64_t sum = 0;

	for (unsigned w = from; w < to && w < m->nwindows; w++)
		sum += m->res[vm].window_ns[w];
	return sum;
}

static uint64_t all_time(const struct sim *m, unsigned from, unsigned to)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < m->cfg.nvms; i++)
		sum += vm_time(m, i, from, to);
	return sum;
}

static uint64_t wall_time(const struct sim *m, unsigned from, unsigned to)
{
	uint64_t end = (uint64_t)to * m->cfg.window_ns;

	if (end > m->cfg.duration_ns)
		end = m->cfg.duration_ns;
	return end - (uint64_t)from * m->cfg.window_ns;
}

double sim_share(const struct sim *m, unsigned vm, unsigned from, unsigned to)
{
	uint64_t all = all_time(m, from, to);

	return all ? (double)vm_time(m, vm, from, to) / (double)all : 0.0;
}

double sim_time_share(const struct sim *m, unsigned vm, unsigned from, unsigned to)
{
	return (double)vm_time(m, vm, from, to) / (double)wall_time(m, from, to);
}

double sim_idle_share(const struct sim *m, unsigned from, unsigned to)
{
	return 1.0 - (double)all_time(m, from, to) / (double)wall_time(m, from, to);
}

double sim_jain(const struct sim *m, unsigned window, uint64_t mask)
{
	double sum = 0, sum_sq = 0;
	unsigned k = 0;

	for (unsigned i = 0; i < m->cfg.nvms; i++) {
		if (!(mask & (1ull << i)))
			continue;
		double x = (double)m->res[i].window_ns[window] / (double)m->vm[i].weight;

		sum += x;
		sum_sq += x * x;
		k++;
	}
	return sum_sq > 0 ? sum * sum / ((double)k * sum_sq) : 0.0;
}

double sim_min_jain(const struct sim *m, unsigned from, unsigned to, uint64_t mask)
{
	double min = 1.0;

	for (unsigned w = from; w < to && w < m->nwindows; w++) {
		double j = sim_jain(m, w, mask);

		if (j < min)
			min = j;
	}
	return min;
}

double sim_mean_jain(const struct sim *m, unsigned from, unsigned to, uint64_t mask)
{
	double sum = 0;
	unsigned k = 0;

	for (unsigned w = from; w < to && w < m->nwindows; w++, k++)
		sum += sim_jain(m, w, mask);
	return k ? sum / k : 0.0;
}

uint64_t sim_max_wait(const struct sim *m, unsigned vm, unsigned from, unsigned to)
{
	uint64_t max = 0;

	for (unsigned w = from; w < to && w < m->nwindows; w++)
		if (m->res[vm].window_max_wait_ns[w] > max)
			max = m->res[vm].window_max_wait_ns[w];
	return max;
}

uint64_t sim_first_release_after(const struct sim *m, unsigned vm, uint64_t t)
{
	const struct sim_vm_result *r = &m->res[vm];

	for (uint64_t k = 0; k < r->releases; k++)
		if (r->release_at[k] >= t)
			return r->release_at[k];
	return UINT64_MAX;
}

void sim_report(const struct sim *m, const char *label, unsigned from, unsigned to, uint64_t mask)
{
	printf("  [%s] policy %s, %.1f s, windows %u..%u of %.0f ms, GPU idle %.1f%%\n", label,
	       m->cfg.policy->name, (double)m->cfg.duration_ns / 1e9, from, to - 1,
	       (double)m->cfg.window_ns / 1e6, 100.0 * sim_idle_share(m, from, to));
	for (unsigned i = 0; i < m->cfg.nvms; i++) {
		const struct sim_vm_cfg *c = &m->cfg.vm[i];

		printf("    %-8s weight %5u cap %3u kernel %8.3f ms: share %6.2f%% of GPU time, "
		       "%6.2f%% of wall time, longest queue wait %7.2f ms\n",
		       m->vm[i].name, m->vm[i].weight, c->cap, (double)c->kernel_ns / 1e6,
		       100.0 * sim_share(m, i, from, to), 100.0 * sim_time_share(m, i, from, to),
		       (double)sim_max_wait(m, i, from, to) / 1e6);
	}
	if (mask)
		printf("    Jain's index over %.0f ms windows: min %.4f, mean %.4f\n",
		       (double)m->cfg.window_ns / 1e6, sim_min_jain(m, from, to, mask),
		       sim_mean_jain(m, from, to, mask));
}
