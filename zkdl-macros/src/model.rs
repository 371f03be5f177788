//! The parsed model of a `network!` invocation: what the user wrote, with the span of every key and of
//! every layer entry.
//!
//! Grammar (a trailing comma is optional after every list):
//!
//! ```text
//! network   := attribute* visibility NAME '{' (key ':' value),* '}'
//! key       := input | layers | loss | optimizer | batch | scale_bits | range_bits
//! layers    := '[' entry,* ']'
//! entry     := dense '(' INT [',' bias '=' BOOL] ')' | relu | repeat '(' INT ')' '{' entry,* '}'
//! loss      := mse
//! optimizer := sgd '(' lr '=' rate ')'          rate := 2 '^' '-' INT | 1
//! ```
//!
//! Parsing recovers at every top-level `,` of the key list and of each layer list: a malformed key or
//! entry is recorded in [`NetworkDecl::errors`] and parsing goes on, so one expansion reports every
//! mistake. The checks that need the whole network (layer order, the batch a power of two, magnitude
//! bounds) are not made here but in [`crate::validate`], by the compiler's own `NetworkSpec::validate`.

use proc_macro2::{Punct, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{
    braced, bracketed, parenthesized, token, Attribute, Error, Ident, Lit, LitFloat, LitInt, Result, Token, Visibility,
};
use zkdl_compiler::Loss;

/// The tokens from `first` to `last`, for an error that underlines all of them (`dense(0)`, `2^-7`).
#[derive(Clone, Copy, Debug)]
pub struct SpanRange {
    pub first: Span,
    pub last: Span,
}

impl SpanRange {
    pub fn single(span: Span) -> SpanRange {
        SpanRange { first: span, last: span }
    }

    /// An error at these tokens.
    pub fn error(&self, message: impl std::fmt::Display) -> Error {
        Error::new_spanned(self, message)
    }
}

/// `syn::Error::new_spanned` takes the start of the first token and the end of the last one.
impl ToTokens for SpanRange {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for span in [self.first, self.last] {
            let mut punct = Punct::new('#', Spacing::Alone);
            punct.set_span(span);
            tokens.extend([TokenTree::Punct(punct)]);
        }
    }
}

/// A key of the network body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Input,
    Layers,
    Loss,
    Optimizer,
    Batch,
    ScaleBits,
    RangeBits,
}

impl Key {
    pub const ALL: [Key; 7] =
        [Key::Input, Key::Layers, Key::Loss, Key::Optimizer, Key::Batch, Key::ScaleBits, Key::RangeBits];

    pub fn name(self) -> &'static str {
        match self {
            Key::Input => "input",
            Key::Layers => "layers",
            Key::Loss => "loss",
            Key::Optimizer => "optimizer",
            Key::Batch => "batch",
            Key::ScaleBits => "scale_bits",
            Key::RangeBits => "range_bits",
        }
    }

    /// The key with a typical value, as it would be written.
    pub fn example(self) -> &'static str {
        match self {
            Key::Input => "input: 784,",
            Key::Layers => "layers: [dense(128), relu, dense(10)],",
            Key::Loss => "loss: mse,",
            Key::Optimizer => "optimizer: sgd(lr = 2^-7),",
            Key::Batch => "batch: 64,",
            Key::ScaleBits => "scale_bits: 16,",
            Key::RangeBits => "range_bits: 32,",
        }
    }

    /// Keys without a default.
    pub fn is_required(self) -> bool {
        matches!(self, Key::Input | Key::Layers | Key::Optimizer | Key::Batch)
    }

    fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// `key: value`, with the key's token.
#[derive(Clone, Debug)]
pub struct Field<T> {
    pub key: Ident,
    pub value: T,
}

/// An integer literal that fits a `u32`.
#[derive(Clone, Copy, Debug)]
pub struct Number {
    pub value: u32,
    pub span: Span,
}

/// `[entry, …]`.
#[derive(Clone, Debug)]
pub struct LayerList {
    pub bracket: token::Bracket,
    pub entries: Vec<LayerEntry>,
}

/// One entry of a layer list, as written.
#[derive(Clone, Debug)]
pub enum LayerEntry {
    Dense { keyword: Ident, paren: token::Paren, width: Number, bias: bool },
    Relu { keyword: Ident },
    Repeat { keyword: Ident, count: Number, brace: token::Brace, body: Vec<LayerEntry> },
}

impl LayerEntry {
    /// The tokens of the entry: `dense(10)`, `relu`, or `repeat(8) { … }` as a whole.
    pub fn source(&self) -> SpanRange {
        match self {
            LayerEntry::Dense { keyword, paren, .. } => SpanRange { first: keyword.span(), last: paren.span.join() },
            LayerEntry::Relu { keyword } => SpanRange::single(keyword.span()),
            LayerEntry::Repeat { keyword, brace, .. } => SpanRange { first: keyword.span(), last: brace.span.join() },
        }
    }
}

/// `mse`.
#[derive(Clone, Debug)]
pub struct LossDecl {
    pub keyword: Ident,
    pub loss: Loss,
}

/// `sgd(lr = 2^-K)`.
#[derive(Clone, Debug)]
pub struct OptimizerDecl {
    pub lr: LearningRate,
}

/// `2^-K` or `1`: the learning rate 2^(−K) on the mean gradient.
#[derive(Clone, Copy, Debug)]
pub struct LearningRate {
    pub shift: u32,
    pub source: SpanRange,
}

/// A whole `network!` invocation.
#[derive(Clone, Debug)]
pub struct NetworkDecl {
    /// Outer attributes (doc comments first of all), passed on to the generated struct.
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub input: Option<Field<Number>>,
    pub layers: Option<Field<LayerList>>,
    pub loss: Option<Field<LossDecl>>,
    pub optimizer: Option<Field<OptimizerDecl>>,
    pub batch: Option<Field<Number>>,
    pub scale_bits: Option<Field<Number>>,
    pub range_bits: Option<Field<Number>>,
    /// Keys whose value is unknown: written but malformed, or required and missing. Their errors are in
    /// `errors`; validation does not judge anything that depends on them.
    pub unusable: Vec<Key>,
    /// Every parse error, in source order.
    pub errors: Vec<Error>,
}

impl NetworkDecl {
    /// Whether the value of `key` is known: parsed, or defaulted.
    pub fn is_usable(&self, key: Key) -> bool {
        !self.unusable.contains(&key)
    }
}

impl Parse for NetworkDecl {
    fn parse(input: ParseStream) -> Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if input.peek(Token![struct]) {
            return Err(input.error("write the network without `struct`: `pub PaperNet { input: …, layers: […], … }`"));
        }
        if !input.peek(Ident) {
            return Err(input.error(
                "expected the network's name, then its keys in braces: `pub PaperNet { input: 784, layers: […], … }`",
            ));
        }
        let name: Ident = input.parse()?;
        if !input.peek(token::Brace) {
            return Err(input.error(format!(
                "expected `{{` after `{name}`, then the keys of the network: `{name} {{ input: 784, layers: […], \
                 optimizer: sgd(lr = 2^-7), batch: 64 }}`"
            )));
        }
        let content;
        braced!(content in input);

        let mut decl = NetworkDecl {
            attrs,
            vis,
            name,
            input: None,
            layers: None,
            loss: None,
            optimizer: None,
            batch: None,
            scale_bits: None,
            range_bits: None,
            unusable: Vec::new(),
            errors: Vec::new(),
        };
        let mut errors = Vec::new();
        let mut seen = Vec::new();
        parse_separated(&content, &mut errors, "between keys", |entry| parse_key_value(entry, &mut decl, &mut seen));
        for key in Key::ALL.into_iter().filter(|k| k.is_required() && !seen.contains(k)) {
            errors.push(Error::new(
                decl.name.span(),
                format!("missing key `{}`; add e.g. `{}`", key.name(), key.example()),
            ));
            decl.unusable.push(key);
        }
        if !input.is_empty() {
            errors.push(input.error("unexpected tokens after the network; `network!` declares one network"));
            drain(input);
        }
        decl.errors = errors;
        Ok(decl)
    }
}

/// `key: value` into `decl`. A key whose value does not parse is marked unusable.
fn parse_key_value(input: ParseStream, decl: &mut NetworkDecl, seen: &mut Vec<Key>) -> Result<()> {
    if !input.peek(Ident::peek_any) {
        return Err(input.error(format!("expected a key: {}", key_list())));
    }
    let key_ident = Ident::parse_any(input)?;
    let name = key_ident.unraw().to_string();
    let Some(key) = Key::from_name(&name) else {
        let names: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
        return Err(Error::new(
            key_ident.span(),
            format!("unknown key `{name}`; expected {}{}", key_list(), did_you_mean(&name, &names)),
        ));
    };
    if seen.contains(&key) {
        return Err(Error::new(
            key_ident.span(),
            format!("duplicate key `{name}`; it is already given above — keep one of the two"),
        ));
    }
    seen.push(key);
    let result = parse_value(input, key, key_ident, decl);
    if result.is_err() {
        decl.unusable.push(key);
    }
    result
}

fn parse_value(input: ParseStream, key: Key, key_ident: Ident, decl: &mut NetworkDecl) -> Result<()> {
    if !input.peek(Token![:]) {
        return Err(input.error(format!("expected `:` after `{}`; write e.g. `{}`", key.name(), key.example())));
    }
    let colon = input.parse::<Token![:]>()?;
    if input.is_empty() || input.peek(Token![,]) {
        let source = SpanRange { first: key_ident.span(), last: colon.span };
        return Err(source.error(format!("`{}` has no value; write e.g. `{}`", key.name(), key.example())));
    }
    let number = |input: ParseStream| input.parse::<Number>().map(|value| Field { key: key_ident.clone(), value });
    match key {
        Key::Input => decl.input = Some(number(input)?),
        Key::Batch => decl.batch = Some(number(input)?),
        Key::ScaleBits => decl.scale_bits = Some(number(input)?),
        Key::RangeBits => decl.range_bits = Some(number(input)?),
        Key::Layers => decl.layers = Some(Field { key: key_ident.clone(), value: input.parse()? }),
        Key::Loss => decl.loss = Some(Field { key: key_ident.clone(), value: input.parse()? }),
        Key::Optimizer => decl.optimizer = Some(Field { key: key_ident.clone(), value: input.parse()? }),
    }
    if !input.is_empty() && !input.peek(Token![,]) {
        return Err(input.error(format!("expected `,` after the value of `{}`", key.name())));
    }
    Ok(())
}

fn key_list() -> String {
    let names: Vec<String> = Key::ALL.iter().map(|k| format!("`{}`", k.name())).collect();
    format!("one of {}", names.join(", "))
}

impl Parse for Number {
    fn parse(input: ParseStream) -> Result<Self> {
        if input.peek(LitInt) {
            let literal: LitInt = input.parse()?;
            Number::from_literal(&literal)
        } else if input.peek(LitFloat) {
            let literal: LitFloat = input.parse()?;
            Err(Error::new(literal.span(), format!("expected an integer, found `{literal}`")))
        } else if input.peek(Token![-]) {
            Err(input.error("expected a non-negative integer"))
        } else {
            Err(input.error("expected an integer, e.g. `64`"))
        }
    }
}

impl Number {
    fn from_literal(literal: &LitInt) -> Result<Number> {
        let suffix = literal.suffix();
        if !suffix.is_empty() && suffix != "u32" {
            return Err(Error::new(literal.span(), format!("write a plain integer, without the `{suffix}` suffix")));
        }
        let digits = literal.base10_digits();
        match digits.parse::<u32>() {
            Ok(value) => Ok(Number { value, span: literal.span() }),
            Err(_) if digits.starts_with('-') => Err(Error::new(literal.span(), "expected a non-negative integer")),
            Err(_) => Err(Error::new(
                literal.span(),
                format!(
                    "`{digits}` does not fit in a u32 (at most {}); widths, counts and bit sizes are u32",
                    u32::MAX
                ),
            )),
        }
    }
}

impl Parse for LayerList {
    fn parse(input: ParseStream) -> Result<Self> {
        if !input.peek(token::Bracket) {
            return Err(
                input.error("expected the layer list in brackets, e.g. `layers: [dense(128), relu, dense(10)]`")
            );
        }
        let content;
        let bracket = bracketed!(content in input);
        let entries = parse_layer_entries(&content)?;
        Ok(LayerList { bracket, entries })
    }
}

/// The entries of a layer list or `repeat` block: every entry is parsed, every error kept.
fn parse_layer_entries(input: ParseStream) -> Result<Vec<LayerEntry>> {
    let mut errors = Vec::new();
    let entries = parse_separated(input, &mut errors, "between layers", LayerEntry::parse);
    combine(errors).map_or(Ok(entries), Err)
}

const LAYER_FORMS: &str = "`dense(N)`, `relu` or `repeat(N) { … }`";

impl Parse for LayerEntry {
    fn parse(input: ParseStream) -> Result<Self> {
        if !input.peek(Ident::peek_any) {
            return Err(input.error(format!("expected a layer: {LAYER_FORMS}")));
        }
        let keyword = Ident::parse_any(input)?;
        match keyword.unraw().to_string().as_str() {
            "dense" => {
                if !input.peek(token::Paren) {
                    return Err(Error::new(keyword.span(), "`dense` needs its width in parentheses, e.g. `dense(10)`"));
                }
                let content;
                let paren = parenthesized!(content in input);
                const DENSE: &str = "`dense` takes a width and optionally `bias = false`, e.g. `dense(10)` or `dense(10, bias = false)`";
                let (width, bias) = within(&content, DENSE, |c| {
                    if c.is_empty() {
                        return Err(Error::new(
                            paren.span.join(),
                            "`dense()` has no width; write its number of outputs, e.g. `dense(10)`",
                        ));
                    }
                    let width = c.parse::<Number>()?;
                    if c.is_empty() {
                        return Ok((width, true));
                    }
                    c.parse::<Token![,]>()?;
                    let argument =
                        Ident::parse_any(c).map_err(|_| c.error(format!("expected `bias = false`; {DENSE}")))?;
                    if argument != "bias" {
                        return Err(Error::new(
                            argument.span(),
                            format!("unknown argument `{argument}` of `dense`; {DENSE}"),
                        ));
                    }
                    c.parse::<Token![=]>().map_err(|_| c.error("expected `=` after `bias`, e.g. `bias = false`"))?;
                    let value: syn::LitBool =
                        c.parse().map_err(|_| c.error("expected `true` or `false` after `bias =`"))?;
                    Ok((width, value.value))
                })?;
                Ok(LayerEntry::Dense { keyword, paren, width, bias })
            }
            "relu" => {
                if input.peek(token::Paren) {
                    let arguments: proc_macro2::Group = input.parse()?;
                    let source = SpanRange { first: keyword.span(), last: arguments.span() };
                    return Err(source.error("`relu` takes no arguments; write `relu`"));
                }
                Ok(LayerEntry::Relu { keyword })
            }
            "repeat" => parse_repeat(input, keyword),
            other => {
                let mut source = SpanRange::single(keyword.span());
                if input.peek(token::Paren) {
                    let arguments: proc_macro2::Group = input.parse()?;
                    source.last = arguments.span();
                }
                let suggestion = match other.to_ascii_lowercase().as_str() {
                    "linear" | "fc" | "fully_connected" | "fullyconnected" => {
                        "; a fully connected layer is `dense(N)`".to_string()
                    }
                    _ => did_you_mean(other, &["dense", "relu", "repeat"]),
                };
                Err(source.error(format!("unknown layer `{other}`; expected {LAYER_FORMS}{suggestion}")))
            }
        }
    }
}

/// `repeat(N) { entries }`, after the keyword.
fn parse_repeat(input: ParseStream, keyword: Ident) -> Result<LayerEntry> {
    const FORM: &str = "`repeat(N) { … }`, e.g. `repeat(4) { dense(64), relu }`";
    if !input.peek(token::Paren) {
        return Err(Error::new(keyword.span(), format!("`repeat` needs its count in parentheses: {FORM}")));
    }
    let content;
    let paren = parenthesized!(content in input);
    let count = within(&content, "`repeat` takes one count", |c| {
        if c.is_empty() {
            Err(Error::new(paren.span.join(), format!("`repeat()` has no count: {FORM}")))
        } else {
            c.parse::<Number>()
        }
    })?;
    if !input.peek(token::Brace) {
        return Err(SpanRange { first: keyword.span(), last: paren.span.join() }
            .error(format!("`repeat({})` needs a block of layers: {FORM}", count.value)));
    }
    let content;
    let brace = braced!(content in input);
    let body = parse_layer_entries(&content);
    let mut errors = Vec::new();
    if count.value == 0 {
        errors.push(Error::new(
            count.span,
            "the repeat count is 0; `repeat(N)` needs N ≥ 1 — to drop the block, remove the whole `repeat`",
        ));
    }
    match &body {
        Ok(entries) if entries.is_empty() => errors.push(Error::new(
            brace.span.join(),
            "the `repeat` block is empty; put the layers to repeat inside, e.g. `repeat(4) { dense(64), relu }`",
        )),
        Ok(_) => {}
        Err(error) => errors.push(error.clone()),
    }
    match (combine(errors), body) {
        (Some(error), _) => Err(error),
        (None, Ok(body)) => Ok(LayerEntry::Repeat { keyword, count, brace, body }),
        (None, Err(error)) => Err(error),
    }
}

impl Parse for LossDecl {
    fn parse(input: ParseStream) -> Result<Self> {
        if !input.peek(Ident::peek_any) {
            return Err(input.error("expected the loss, `mse`"));
        }
        let keyword = Ident::parse_any(input)?;
        let name = keyword.unraw().to_string();
        if name == "mse" {
            if input.peek(token::Paren) {
                let arguments: proc_macro2::Group = input.parse()?;
                let source = SpanRange { first: keyword.span(), last: arguments.span() };
                return Err(source.error("`mse` takes no arguments; write `loss: mse`"));
            }
            Ok(LossDecl { keyword, loss: Loss::Mse })
        } else {
            let mut source = SpanRange::single(keyword.span());
            if input.peek(token::Paren) {
                let arguments: proc_macro2::Group = input.parse()?;
                source.last = arguments.span();
            }
            Err(source.error(format!("unknown loss `{name}`; expected `mse`, the only loss of version 0")))
        }
    }
}

impl Parse for OptimizerDecl {
    fn parse(input: ParseStream) -> Result<Self> {
        const FORM: &str = "`sgd(lr = 2^-K)`, e.g. `sgd(lr = 2^-7)`";
        if !input.peek(Ident::peek_any) {
            return Err(input.error(format!("expected the optimizer: {FORM}")));
        }
        let keyword = Ident::parse_any(input)?;
        let name = keyword.unraw().to_string();
        if name != "sgd" {
            let mut source = SpanRange::single(keyword.span());
            if input.peek(token::Paren) {
                let arguments: proc_macro2::Group = input.parse()?;
                source.last = arguments.span();
            }
            return Err(
                source.error(format!("unknown optimizer `{name}`; expected {FORM}, the only optimizer of version 0"))
            );
        }
        if !input.peek(token::Paren) {
            return Err(Error::new(keyword.span(), format!("`sgd` needs its learning rate: {FORM}")));
        }
        let content;
        let paren = parenthesized!(content in input);
        let lr = within(&content, "`sgd` takes only `lr = 2^-K`", |c| {
            if c.is_empty() {
                return Err(Error::new(paren.span.join(), format!("`sgd()` has no learning rate: {FORM}")));
            }
            if !c.peek(Ident::peek_any) {
                return Err(c.error(format!("expected `lr = 2^-K`: {FORM}")));
            }
            let argument = Ident::parse_any(c)?;
            if argument != "lr" {
                return Err(Error::new(
                    argument.span(),
                    format!("unknown argument `{argument}` of `sgd`; it takes only the learning rate: {FORM}"),
                ));
            }
            if !c.peek(Token![=]) {
                return Err(c.error("expected `=` after `lr`, e.g. `lr = 2^-7`"));
            }
            c.parse::<Token![=]>()?;
            let lr: LearningRate = c.parse()?;
            if c.peek(Token![,]) {
                c.parse::<Token![,]>()?;
            }
            Ok(lr)
        })?;
        Ok(OptimizerDecl { lr })
    }
}

impl Parse for LearningRate {
    fn parse(input: ParseStream) -> Result<Self> {
        let mut tokens = Vec::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            tokens.push(input.parse::<TokenTree>()?);
        }
        let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
            return Err(input.error("expected the learning rate after `lr =`, e.g. `2^-7`"));
        };
        let source = SpanRange { first: first.span(), last: last.span() };
        match tokens.as_slice() {
            [TokenTree::Literal(one)] if integer_value(one) == Some(1) => Ok(LearningRate { shift: 0, source }),
            [TokenTree::Literal(two), TokenTree::Punct(caret), TokenTree::Punct(minus), TokenTree::Literal(exponent)]
                if integer_value(two) == Some(2) && caret.as_char() == '^' && minus.as_char() == '-' =>
            {
                match Lit::new(exponent.clone()) {
                    Lit::Int(exponent) => {
                        Number::from_literal(&exponent).map(|k| LearningRate { shift: k.value, source })
                    }
                    _ => Err(source.error(not_a_power_of_two(&tokens))),
                }
            }
            _ => Err(source.error(not_a_power_of_two(&tokens))),
        }
    }
}

fn integer_value(literal: &proc_macro2::Literal) -> Option<u32> {
    match Lit::new(literal.clone()) {
        Lit::Int(int) if int.suffix().is_empty() => int.base10_parse().ok(),
        _ => None,
    }
}

/// The error for a learning rate not written `2^-K`; for a decimal in (0, 1], names the nearest `2^-K`.
fn not_a_power_of_two(tokens: &[TokenTree]) -> String {
    let written: String = tokens.iter().map(|t| t.to_string()).collect();
    let help = "the update is a shift, so write `lr = 2^-K` with an integer K ≥ 0";
    let decimal = match tokens {
        [TokenTree::Literal(literal)] => match Lit::new(literal.clone()) {
            Lit::Float(float) => float.base10_parse::<f64>().ok(),
            Lit::Int(int) => int.base10_parse::<f64>().ok(),
            _ => None,
        },
        _ => None,
    };
    match decimal {
        Some(rate) if rate > 0.0 && rate <= 1.0 => {
            let k = (-rate.log2()).round().clamp(0.0, 1074.0) as i32;
            format!(
                "learning rate `{written}` is not a power of two; {help}: the nearest is `2^-{k}` (= {})",
                2f64.powi(-k)
            )
        }
        _ => format!(
            "learning rate `{written}` is not a power of two written `2^-K`; {help}, e.g. `lr = 2^-7` for 1/128, \
             or `lr = 1`"
        ),
    }
}

/// Parses the content of a delimited group, requires it to be consumed, and drains it in any case: syn
/// turns a group left half-read into a stray "unexpected token" error at the end of parsing.
fn within<T>(content: ParseStream, what: &str, parse: impl FnOnce(ParseStream) -> Result<T>) -> Result<T> {
    let result = parse(content).and_then(|value| {
        if content.is_empty() {
            Ok(value)
        } else {
            Err(content.error(format!("unexpected tokens; {what}")))
        }
    });
    drain(content);
    result
}

/// Comma-separated items, recovering at each `,`: returns the items that parsed and keeps the error
/// of every one that did not.
fn parse_separated<T>(
    input: ParseStream,
    errors: &mut Vec<Error>,
    separator_place: &str,
    mut item: impl FnMut(ParseStream) -> Result<T>,
) -> Vec<T> {
    let mut items = Vec::new();
    while !input.is_empty() {
        match item(input) {
            Ok(value) if input.is_empty() || input.peek(Token![,]) => items.push(value),
            Ok(_) => {
                errors.push(input.error(format!("expected `,` {separator_place}")));
                skip_to_comma(input);
            }
            Err(error) => {
                errors.push(error);
                skip_to_comma(input);
            }
        }
        if input.peek(Token![,]) {
            let _ = input.parse::<Token![,]>();
        }
    }
    items
}

fn skip_to_comma(input: ParseStream) {
    while !input.is_empty() && !input.peek(Token![,]) {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

fn drain(input: ParseStream) {
    while !input.is_empty() {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

/// All errors as one, or `None`.
pub fn combine(errors: impl IntoIterator<Item = Error>) -> Option<Error> {
    errors.into_iter().reduce(|mut all, error| {
        all.combine(error);
        all
    })
}

/// "; did you mean `x`?" for the candidate closest to `written`, if it is close.
fn did_you_mean(written: &str, candidates: &[&str]) -> String {
    let written_lower = written.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&written_lower, c), *c))
        .filter(|(distance, c)| {
            *distance <= 2.min(c.len() / 2) || (written_lower.len() >= 3 && written_lower.starts_with(c))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names_only() {
        assert_eq!(did_you_mean("ReLU", &["dense", "relu", "repeat"]), "; did you mean `relu`?");
        assert_eq!(did_you_mean("batch_size", &["batch", "input"]), "; did you mean `batch`?");
        assert_eq!(did_you_mean("epochs", &["batch", "input", "loss"]), "");
        assert_eq!(did_you_mean("layer", &["layers", "loss"]), "; did you mean `layers`?");
        assert_eq!(did_you_mean("conv", &["dense", "relu", "repeat"]), "");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn learning_rate_forms() {
        let shift = |s: &str| syn::parse_str::<LearningRate>(s).map(|lr| lr.shift).map_err(|e| e.to_string());
        assert_eq!(shift("2^-7"), Ok(7));
        assert_eq!(shift("2 ^ - 0"), Ok(0));
        assert_eq!(shift("1"), Ok(0));
        assert!(shift("0.01").unwrap_err().contains("the nearest is `2^-7` (= 0.0078125)"));
        assert!(shift("3^-2").unwrap_err().contains("write `lr = 2^-K`"));
        assert!(shift("2^7").unwrap_err().contains("write `lr = 2^-K`"));
        assert!(shift("2^-99999999999").unwrap_err().contains("does not fit in a u32"));
    }
}
