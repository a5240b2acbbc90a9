"""Connected components of the scored pairs: the pieces the greedy clustering can do one by one.

The greedy clustering (``linkage.cluster``) merges only along the pairs it is given, and a
cluster average looks only inside the two clusters being merged. Records with no chain of such
pairs between them therefore never influence each other, and clustering a set of whole
components gives exactly what clustering everything at once would. That lets a first run over a
million records keep its per-pair Python tables one batch of components large, and leave the
records with no pair at all (most of a large index) out of the Python structures altogether.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


def component_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of ``n`` rows the smallest row of its component over the edges (a[i], b[i]).

    Minimum-label propagation with pointer jumping: a handful of passes, since the components
    of record linkage are small (a person's records and their look-alikes)."""
    labels = np.arange(n, dtype=np.int64)
    if not len(a):
        return labels
    while True:
        low = np.minimum(labels[a], labels[b])
        before = labels.copy()
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        labels = labels[labels]
        if np.array_equal(labels, before):
            return labels


@dataclass(frozen=True)
class ComponentBatch:
    """Rows of whole components and the positions of their edges (into the caller's edge arrays)."""

    rows: np.ndarray
    edges: np.ndarray


def component_batches(labels: np.ndarray, edge_rows: np.ndarray, max_edges: int) -> Iterator[ComponentBatch]:
    """Whole components with at least one edge, grouped into batches of about ``max_edges`` edges.

    ``edge_rows``: one row per edge (either end; both ends share a label). A component is never
    cut, so a batch may exceed ``max_edges`` by one component's edges."""
    if not len(edge_rows):
        return
    edge_label = labels[edge_rows]
    edge_order = np.argsort(edge_label, kind="stable")
    sorted_edge_labels = edge_label[edge_order]
    components, edges_per_component = np.unique(sorted_edge_labels, return_counts=True)
    in_component = np.isin(labels, components)
    rows = np.flatnonzero(in_component)
    rows = rows[np.argsort(labels[rows], kind="stable")]
    row_labels = labels[rows]
    batch_of = (np.cumsum(edges_per_component) - edges_per_component) // max(max_edges, 1)
    cuts = np.flatnonzero(np.diff(batch_of)) + 1
    for first, last in zip(np.r_[0, cuts], np.r_[cuts, len(components)]):
        low, high = components[first], components[last - 1]
        row_span = slice(np.searchsorted(row_labels, low), np.searchsorted(row_labels, high, side="right"))
        edge_span = slice(np.searchsorted(sorted_edge_labels, low), np.searchsorted(sorted_edge_labels, high, side="right"))
        yield ComponentBatch(rows[row_span], edge_order[edge_span])
