//! Validation of a parsed `network!`: the model becomes a `zkdl_compiler::NetworkSpec`, checked by the
//! compiler's own [`NetworkSpec::validate`], so `network!`, the builder and spec files accept exactly
//! the same networks.
//!
//! Every `SpecError` is turned into a `syn::Error` at the tokens it is about: `SpecKey::Layer(i)` indexes
//! the layer list after `repeat` is expanded, so each expanded layer keeps the span of the entry that
//! produced it. Parse errors and validation errors are reported together. A key whose value is unknown
//! (malformed or missing) is given a neutral stand-in so the rest can still be validated, and every
//! validation error that depends on a stand-in is dropped: what is reported is about what was written.
//!
//! Two checks come first: the expanded layer list has at most [`MAX_LAYER_ENTRIES`] entries (nested
//! `repeat`s could otherwise ask for billions), and scale_bits and range_bits are at most
//! [`FIELD_MAGNITUDE_LIMIT_LOG2`]: the compiler's bound arithmetic overflows `u32` on values near 2^31,
//! and any value above the limit fails the magnitude bound anyway.

use crate::model::{combine, Field, Key, LayerEntry, LayerList, NetworkDecl, Number, SpanRange};
use syn::ext::IdentExt;
use syn::Error;
use zkdl_compiler::spec::{DEFAULT_RANGE_BITS, DEFAULT_SCALE_BITS, FIELD_MAGNITUDE_LIMIT_LOG2};
use zkdl_compiler::{FixedPoint, Layer, Loss, NetworkSpec, Optimizer, SpecErrors, SpecKey};

/// Most entries the layer list may have once `repeat` is expanded: far deeper than any network zkdl
/// proves, small enough that the expansion stays a reasonable amount of code.
pub const MAX_LAYER_ENTRIES: usize = 4096;

/// One entry of the expanded layer list and the entry of the source that produced it.
#[derive(Clone, Copy, Debug)]
struct ExpandedLayer {
    layer: Layer,
    /// Index of the source entry in a pre-order walk: the repetitions of one entry share it.
    entry: usize,
    source: SpanRange,
}

/// The spec the invocation declares, or every error in it.
pub fn validate(decl: &NetworkDecl) -> syn::Result<NetworkSpec> {
    let mut errors = decl.errors.clone();
    let mut unusable = decl.unusable.clone();

    let layers = match &decl.layers {
        Some(field) if decl.is_usable(Key::Layers) => match expand_layers(field) {
            Ok(layers) => layers,
            Err(error) => {
                errors.push(error);
                unusable.push(Key::Layers);
                Vec::new()
            }
        },
        _ => Vec::new(),
    };
    let mut fixed_point_bits = |field: &Option<Field<Number>>, key: Key, default: u32| match field {
        Some(field) if field.value.value > FIELD_MAGNITUDE_LIMIT_LOG2 => {
            errors.push(Error::new(
                field.value.span,
                format!(
                    "{} {} is above {FIELD_MAGNITUDE_LIMIT_LOG2}: every magnitude must stay below p/2 ≈ \
                     2^{FIELD_MAGNITUDE_LIMIT_LOG2}; the default is {default}",
                    key.name(),
                    field.value.value
                ),
            ));
            unusable.push(key);
            default
        }
        Some(field) => field.value.value,
        None => default,
    };
    let scale_bits = fixed_point_bits(&decl.scale_bits, Key::ScaleBits, DEFAULT_SCALE_BITS);
    let range_bits = fixed_point_bits(&decl.range_bits, Key::RangeBits, DEFAULT_RANGE_BITS);

    // Stand-ins for unknown values are valid on their own; errors that depend on them are dropped below.
    let known = |key: Key| !unusable.contains(&key);
    let number = |field: &Option<Field<Number>>, key: Key, stand_in: u32| match field {
        Some(field) if known(key) => field.value.value,
        _ => stand_in,
    };
    let spec = NetworkSpec {
        name: decl.name.unraw().to_string(),
        input: number(&decl.input, Key::Input, 1),
        layers: if known(Key::Layers) { layers.iter().map(|l| l.layer).collect() } else { vec![Layer::dense(1)] },
        loss: decl.loss.as_ref().map_or(Loss::Mse, |field| field.value.loss),
        optimizer: Optimizer::sgd(match &decl.optimizer {
            Some(field) if known(Key::Optimizer) => field.value.lr.shift,
            _ => 0,
        }),
        batch: number(&decl.batch, Key::Batch, 1),
        fixed_point: FixedPoint { scale_bits, range_bits },
    };

    if let Err(SpecErrors(spec_errors)) = spec.validate() {
        let mut reported_layer_errors: Vec<(usize, String)> = Vec::new();
        for spec_error in spec_errors {
            let depends_on: &[Key] = match spec_error.key {
                SpecKey::Name => &[],
                SpecKey::Input => &[Key::Input],
                SpecKey::Layers | SpecKey::Layer(_) => &[Key::Layers],
                SpecKey::Loss => &[Key::Loss],
                SpecKey::LearningRate | SpecKey::Schedule(_) => &[Key::Optimizer],
                SpecKey::Batch => &[Key::Batch],
                SpecKey::ScaleBits => &[Key::ScaleBits],
                // With range_bits above scale_bits, the only range error left is the magnitude bound,
                // which depends on everything.
                SpecKey::RangeBits if range_bits > scale_bits => &Key::ALL,
                SpecKey::RangeBits => &[Key::ScaleBits, Key::RangeBits],
            };
            if !depends_on.iter().all(|&key| known(key)) {
                continue;
            }
            let text = format!("{}; {}", spec_error.message, spec_error.help);
            if let SpecKey::Layer(i) = spec_error.key {
                if let Some(layer) = layers.get(i) {
                    // The repetitions of an entry in `repeat` share its tokens: one error for all.
                    let seen = (layer.entry, text.clone());
                    if reported_layer_errors.contains(&seen) {
                        continue;
                    }
                    reported_layer_errors.push(seen);
                }
            }
            errors.push(site(decl, &layers, spec_error.key).error(text));
        }
    }
    combine(errors).map_or(Ok(spec), Err)
}

/// The tokens an error about `key` points at.
fn site(decl: &NetworkDecl, layers: &[ExpandedLayer], key: SpecKey) -> SpanRange {
    let name = SpanRange::single(decl.name.span());
    let value = |field: &Option<Field<Number>>| field.as_ref().map(|f| SpanRange::single(f.value.span));
    let layer_list = decl.layers.as_ref().map(|f| SpanRange { first: f.key.span(), last: f.value.bracket.span.join() });
    match key {
        SpecKey::Name => Some(name),
        SpecKey::Input => value(&decl.input),
        SpecKey::Layers => layer_list,
        SpecKey::Layer(i) => layers.get(i).map(|l| l.source).or(layer_list),
        SpecKey::Loss => decl.loss.as_ref().map(|f| SpanRange::single(f.value.keyword.span())),
        SpecKey::LearningRate | SpecKey::Schedule(_) => decl.optimizer.as_ref().map(|f| f.value.lr.source),
        SpecKey::Batch => value(&decl.batch),
        SpecKey::ScaleBits => value(&decl.scale_bits),
        SpecKey::RangeBits => value(&decl.range_bits).or(value(&decl.scale_bits)),
    }
    .unwrap_or(name)
}

/// The layer list with every `repeat` expanded, or an error if it would exceed [`MAX_LAYER_ENTRIES`].
fn expand_layers(field: &Field<LayerList>) -> syn::Result<Vec<ExpandedLayer>> {
    let length = expanded_length(&field.value.entries);
    if length > MAX_LAYER_ENTRIES {
        let shown = if length == usize::MAX { "more than that".to_string() } else { length.to_string() };
        return Err(SpanRange { first: field.key.span(), last: field.value.bracket.span.join() }.error(format!(
            "the layer list expands to {shown} entries, above the {MAX_LAYER_ENTRIES} supported; check the \
             `repeat` counts"
        )));
    }
    let mut layers = Vec::with_capacity(length);
    let mut next_entry = 0;
    push_expanded(&field.value.entries, &mut layers, &mut next_entry);
    Ok(layers)
}

/// Length after expansion, saturating.
fn expanded_length(entries: &[LayerEntry]) -> usize {
    entries.iter().fold(0usize, |total, entry| {
        total.saturating_add(match entry {
            LayerEntry::Dense { .. } | LayerEntry::Relu { .. } => 1,
            LayerEntry::Repeat { count, body, .. } => (count.value as usize).saturating_mul(expanded_length(body)),
        })
    })
}

fn push_expanded(entries: &[LayerEntry], out: &mut Vec<ExpandedLayer>, next_entry: &mut usize) {
    for entry in entries {
        let id = *next_entry;
        *next_entry += 1;
        match entry {
            LayerEntry::Dense { width, bias, .. } => {
                let layer = Layer::Dense { units: width.value, bias: *bias };
                out.push(ExpandedLayer { layer, entry: id, source: entry.source() })
            }
            LayerEntry::Relu { .. } => {
                out.push(ExpandedLayer { layer: Layer::Relu, entry: id, source: entry.source() })
            }
            LayerEntry::Repeat { count, body, .. } => {
                let first_id = *next_entry;
                for _ in 0..count.value {
                    // Every repetition numbers its entries the same way.
                    *next_entry = first_id;
                    push_expanded(body, out, next_entry);
                }
                *next_entry = first_id + entry_count(body);
            }
        }
    }
}

/// Entries written in `entries`, nested ones included.
fn entry_count(entries: &[LayerEntry]) -> usize {
    entries
        .iter()
        .map(|entry| match entry {
            LayerEntry::Repeat { body, .. } => 1 + entry_count(body),
            _ => 1,
        })
        .sum()
}
