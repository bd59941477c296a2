//! Plasticity at spike events, inside a chunk's part of the step (see [`crate::synapse::plastic`]
//! for the trace bookkeeping). In the region of step k, plasticity is evaluated at synapse time
//! `sigma = k - 1`:
//!
//! 1. **presynaptic events**: every spike of step k-1 (it acts at the synapse when emitted):
//!    `w = rule.on_pre(w, pre(sigma⁻), post(sigma⁻), elapsed)`, then the new weight is transmitted
//!    into the ring slot of step k-1+d (NEST: update, then send);
//! 2. **postsynaptic events**: every spike of step k-1-d of an owned postsynaptic neuron (it
//!    reaches the synapse after the dendritic delay d): `w = rule.on_post(...)` for each of its
//!    incoming synapses.
//!
//! Events at the same synapse time are applied presynaptic first. A chunk only touches synapses
//! whose target it owns, so threads never write the same weight.

use super::PREFETCH_AHEAD;
use crate::plasticity::{Rule, TraceKind};
use crate::synapse::plastic::{Plastic, TraceSet, NONE};
use crate::synapse::Projection;

#[inline]
fn nz(t: u64) -> u64 {
    if t == NONE {
        0
    } else {
        t
    }
}

/// Raw per-projection pointers for weights and per-synapse state.
#[derive(Clone, Copy)]
pub(crate) struct PlasticPtrs {
    pub w: *mut f32,
    pub state: *mut f32,
}

/// Everything the event loops read.
pub(crate) struct EventCtx<'a> {
    pub pr: &'a Projection,
    pub pl: &'a Plastic,
    pub pre_set: &'a TraceSet,
    pub post_set: &'a TraceSet,
    pub sigma: u64,
    pub dt: f64,
    pub lo: u32,
    pub hi: u32,
    pub full: bool,
}

/// Presynaptic events and transmission. `slot` is the ring slot of step sigma + d; `seen`, when
/// given, receives the target of every write into it (the touched list of a population whose
/// inputs are applied sparsely).
///
/// # Safety
/// `ptrs` must point to the projection's weights (and state, if any); the chunk must own targets
/// `lo..hi` exclusively and `slot` must be valid for the postsynaptic population.
pub(crate) unsafe fn pre_events(c: &EventCtx, ptrs: PlasticPtrs, spikes: &[u32], slot: *mut f32, seen: Option<&mut Vec<u32>>) {
    match &c.pl.rule {
        Rule::PairStdp(r) => match r.additive_all_to_all() {
            // The commonest rule: one multiply-add per event (bit-identical to `on_pre`).
            Some((_, am, lo, hi)) => pre_loop(c, ptrs, spikes, slot, seen, move |w, _, post, _, _| {
                ((w as f64 - am * post[0]) as f32).max(lo).min(hi)
            }),
            None => pre_loop(c, ptrs, spikes, slot, seen, |w, a, b, e, s| r.on_pre(w, a, b, e, s)),
        },
        Rule::TripletStdp(r) => pre_loop(c, ptrs, spikes, slot, seen, |w, a, b, e, s| r.on_pre(w, a, b, e, s)),
        Rule::Vogels(r) => pre_loop(c, ptrs, spikes, slot, seen, |w, a, b, e, s| r.on_pre(w, a, b, e, s)),
    }
}

/// Postsynaptic events of the owned neurons in `post_spikes`.
///
/// # Safety
/// As for [`pre_events`].
pub(crate) unsafe fn post_events(c: &EventCtx, ptrs: PlasticPtrs, post_spikes: &[u32]) {
    match &c.pl.rule {
        Rule::PairStdp(r) => match r.additive_all_to_all() {
            Some((ap, _, lo, hi)) => post_loop(c, ptrs, post_spikes, move |w, pre, _, _, _| {
                ((w as f64 + ap * pre[0]) as f32).max(lo).min(hi)
            }),
            None => post_loop(c, ptrs, post_spikes, |w, a, b, e, s| r.on_post(w, a, b, e, s)),
        },
        Rule::TripletStdp(r) => post_loop(c, ptrs, post_spikes, |w, a, b, e, s| r.on_post(w, a, b, e, s)),
        Rule::Vogels(r) => post_loop(c, ptrs, post_spikes, |w, a, b, e, s| r.on_post(w, a, b, e, s)),
    }
}

const MAXR: usize = 8;

/// The two Accumulate traces of the fast path, when it applies: one reading on each side, no
/// elapsed time and no per-synapse state (pair all-to-all, Vogels, triplet minimal rules without
/// drift read more traces and take the general path).
#[inline]
fn fast_traces<'a>(c: &EventCtx<'a>) -> Option<(&'a [f64], f64, &'a [f64], f64)> {
    let pl = c.pl;
    if pl.pre_read.len() != 1 || pl.post_read.len() != 1 || !pl.state.is_empty() || pl.rule.uses_elapsed() {
        return None;
    }
    let (qp, qq) = (pl.pre_read[0], pl.post_read[0]);
    if c.pre_set.specs[qp].kind != TraceKind::Accumulate || c.post_set.specs[qq].kind != TraceKind::Accumulate {
        return None;
    }
    Some((
        &c.pre_set.values[qp],
        c.pre_set.gain[qp],
        &c.post_set.values[qq],
        c.post_set.gain[qq],
    ))
}

/// Ask for the rows (targets and weights) of the first [`PREFETCH_AHEAD`] spikes; the
/// presynaptic loops then ask for spike n + PREFETCH_AHEAD's row at spike n, as static delivery
/// does. A row lies far from the previous spike's, and its weights are read and written at
/// every presynaptic event.
#[inline(always)]
fn prefetch_row(pr: &Projection, spikes: &[u32], n: usize) {
    if let Some(&j) = spikes.get(n) {
        pr.prefetch_part(pr.row(j as usize));
    }
}

#[inline(always)]
unsafe fn pre_loop<F: Fn(f32, &[f64], &[f64], f64, &mut f32) -> f32>(
    c: &EventCtx,
    ptrs: PlasticPtrs,
    spikes: &[u32],
    slot: *mut f32,
    mut seen: Option<&mut Vec<u32>>,
    f: F,
) {
    let (pl, pr, tp, tq, sigma) = (c.pl, c.pr, c.pre_set, c.post_set, c.sigma);
    if let Some((xp, gp, xq, gq)) = fast_traces(c) {
        // One trace on each side, read directly (the arithmetic of `TraceSet::read`), no
        // elapsed time: the general loop below would look up the trace kinds and the last
        // spike times of both sides at every synapse.
        let mut dummy = 0.0f32;
        (0..PREFETCH_AHEAD).for_each(|n| prefetch_row(pr, spikes, n));
        for (n, &j) in spikes.iter().enumerate() {
            prefetch_row(pr, spikes, n + PREFETCH_AHEAD);
            let x_pre = [*xp.get_unchecked(j as usize) * gp];
            let r = pr.row_in(j as usize, c.lo, c.hi, c.full);
            if let Some(list) = seen.as_deref_mut() {
                list.extend_from_slice(pr.targets.get_unchecked(r.clone()));
            }
            for s in r {
                let i = *pr.targets.get_unchecked(s) as usize;
                let w = f(*ptrs.w.add(s), &x_pre, &[*xq.get_unchecked(i) * gq], 0.0, &mut dummy);
                *ptrs.w.add(s) = w;
                *slot.add(i) += w;
            }
        }
        return;
    }
    let (np, nq) = (pl.pre_read.len(), pl.post_read.len());
    let since = pl.enabled_since;
    let has_state = !pl.state.is_empty();
    let mut dummy = 0.0f32;
    let mut pre_r = [0.0f64; MAXR];
    let mut post_r = [0.0f64; MAXR];
    (0..PREFETCH_AHEAD).for_each(|n| prefetch_row(pr, spikes, n));
    for (n, &j) in spikes.iter().enumerate() {
        prefetch_row(pr, spikes, n + PREFETCH_AHEAD);
        let j = j as usize;
        for (x, &q) in pl.pre_read.iter().enumerate() {
            pre_r[x] = tp.read(q, j, sigma);
        }
        let last_pre = nz(tp.last[j]).max(since);
        let r = pr.row_in(j, c.lo, c.hi, c.full);
        if let Some(list) = seen.as_deref_mut() {
            list.extend_from_slice(&pr.targets[r.clone()]);
        }
        for s in r {
            let i = *pr.targets.get_unchecked(s) as usize;
            for (x, &q) in pl.post_read.iter().enumerate() {
                post_r[x] = tq.read(q, i, sigma);
            }
            let prior = last_pre.max(nz(tq.last[i]));
            let elapsed = (sigma - prior) as f64 * c.dt;
            let st = if has_state { &mut *ptrs.state.add(s) } else { &mut dummy };
            let w = f(*ptrs.w.add(s), &pre_r[..np], &post_r[..nq], elapsed, st);
            *ptrs.w.add(s) = w;
            *slot.add(i) += w;
        }
    }
}

#[inline(always)]
unsafe fn post_loop<F: Fn(f32, &[f64], &[f64], f64, &mut f32) -> f32>(c: &EventCtx, ptrs: PlasticPtrs, post_spikes: &[u32], f: F) {
    let (pl, pr, tp, tq, sigma) = (c.pl, c.pr, c.pre_set, c.post_set, c.sigma);
    let a0 = if c.full { 0 } else { post_spikes.partition_point(|&x| x < c.lo) };
    if let Some((xp, gp, xq, gq)) = fast_traces(c) {
        let mut dummy = 0.0f32;
        for &i in post_spikes[a0..].iter().take_while(|&&x| c.full || x < c.hi) {
            let x_post = [*xq.get_unchecked(i as usize) * gq];
            for &e in pl
                .col_syn
                .get_unchecked(*pl.col_ptr.get_unchecked(i as usize) as usize..*pl.col_ptr.get_unchecked(i as usize + 1) as usize)
            {
                let (j, s) = pl.entry(&pr.row_ptr, e);
                *ptrs.w.add(s) = f(*ptrs.w.add(s), &[*xp.get_unchecked(j) * gp], &x_post, 0.0, &mut dummy);
            }
        }
        return;
    }
    let (np, nq) = (pl.pre_read.len(), pl.post_read.len());
    let since = pl.enabled_since;
    let has_state = !pl.state.is_empty();
    let mut dummy = 0.0f32;
    let mut pre_r = [0.0f64; MAXR];
    let mut post_r = [0.0f64; MAXR];
    let a = if c.full { 0 } else { post_spikes.partition_point(|&x| x < c.lo) };
    for &i in post_spikes[a..].iter().take_while(|&&x| c.full || x < c.hi) {
        let i = i as usize;
        for (x, &q) in pl.post_read.iter().enumerate() {
            post_r[x] = tq.read(q, i, sigma);
        }
        let last_post = nz(tq.last[i]).max(since);
        for &e in &pl.col_syn[pl.col_ptr[i] as usize..pl.col_ptr[i + 1] as usize] {
            let (j, s) = pl.entry(&pr.row_ptr, e);
            for (x, &q) in pl.pre_read.iter().enumerate() {
                pre_r[x] = tp.read(q, j, sigma);
            }
            // A presynaptic event at this same synapse time was applied first: elapsed 0 then.
            let prior = last_post.max(nz(tp.cur[j]));
            let elapsed = (sigma - prior) as f64 * c.dt;
            let st = if has_state { &mut *ptrs.state.add(s) } else { &mut dummy };
            *ptrs.w.add(s) = f(*ptrs.w.add(s), &pre_r[..np], &post_r[..nq], elapsed, st);
        }
    }
}
