//! Code generation of `network!`: parse ([`crate::model`]), validate ([`crate::validate`]), then emit
//!
//! ```text
//! #[attrs] #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)] vis struct Name;
//! impl Name { pub const NAME: &str = "Name"; }
//! impl ::zkdl::Network for Name { fn spec() -> ::zkdl::NetworkSpec { ::zkdl::compiler::NetworkSpec { … } } }
//! ```
//!
//! The spec is written out from the validated `NetworkSpec` itself, as a struct literal with the layer
//! list expanded (`repeat` unrolled), so what runs is exactly what was checked at compile time. Paths
//! go through the `zkdl` facade (`::zkdl::compiler::…`), the crate users depend on.

use crate::model::NetworkDecl;
use crate::validate::validate;
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use zkdl_compiler::{Layer, Loss, NetworkSpec, Optimizer};

/// The whole macro over `proc_macro2` tokens: the generated items, or every error found.
pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let decl: NetworkDecl = syn::parse2(input)?;
    let spec = validate(&decl)?;
    Ok(generate(&decl, &spec))
}

/// The items declaring `decl` with the validated `spec`.
fn generate(decl: &NetworkDecl, spec: &NetworkSpec) -> TokenStream {
    let NetworkDecl { attrs, vis, name, .. } = decl;
    let number = |n: u32| Literal::u32_unsuffixed(n);
    let name_text = &spec.name;
    let input = number(spec.input);
    let layers = spec.layers.iter().map(|layer| match layer {
        Layer::Dense { units, bias } => {
            let units = number(*units);
            quote!(::zkdl::compiler::Layer::Dense { units: #units, bias: #bias })
        }
        Layer::Relu => quote!(::zkdl::compiler::Layer::Relu),
    });
    let loss = match spec.loss {
        Loss::Mse => quote!(::zkdl::compiler::Loss::Mse),
    };
    let optimizer = match &spec.optimizer {
        Optimizer::Sgd { lr_shift, .. } => {
            let lr_shift = number(*lr_shift);
            quote!(::zkdl::compiler::Optimizer::sgd(#lr_shift))
        }
    };
    let batch = number(spec.batch);
    let scale_bits = number(spec.fixed_point.scale_bits);
    let range_bits = number(spec.fixed_point.range_bits);

    quote! {
        #(#attrs)*
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::default::Default,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq
        )]
        #vis struct #name;

        impl #name {
            /// The name the network was declared with.
            pub const NAME: &str = #name_text;
        }

        impl ::zkdl::Network for #name {
            fn spec() -> ::zkdl::NetworkSpec {
                ::zkdl::compiler::NetworkSpec {
                    name: ::std::string::String::from(#name_text),
                    input: #input,
                    layers: ::std::vec![#(#layers),*],
                    loss: #loss,
                    optimizer: #optimizer,
                    batch: #batch,
                    fixed_point: ::zkdl::compiler::FixedPoint { scale_bits: #scale_bits, range_bits: #range_bits },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn pretty(tokens: TokenStream) -> String {
        prettyplease::unparse(&syn::parse2::<syn::File>(tokens).expect("the expansion is a Rust file"))
    }

    /// The error messages of `source`, or the expansion if it has none.
    fn errors(source: &str) -> Vec<String> {
        let tokens = TokenStream::from_str(source).expect("test sources tokenize");
        match expand(tokens) {
            Ok(expansion) => panic!("expected errors, got\n{}", pretty(expansion)),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    const PAPER_NET: &str = "
        /// The network of the zkDL paper: 3072 inputs, 8 hidden layers of 1024 with ReLU, 10 outputs.
        pub PaperNet {
            input: 3072,
            layers: [repeat(8) { dense(1024), relu }, dense(10)],
            loss: mse,
            optimizer: sgd(lr = 2^-7),
            batch: 64,
        }";

    #[test]
    fn paper_net_expansion() {
        let expansion = expand(TokenStream::from_str(PAPER_NET).unwrap()).unwrap();
        insta::assert_snapshot!(pretty(expansion));
    }

    #[test]
    fn digits_net_with_every_key_and_nested_repeat() {
        let source = "Digits { input: 64, layers: [repeat(2) { repeat(1) { dense(32), relu } }, dense(10)], \
                      loss: mse, optimizer: sgd(lr = 2^-4), batch: 32, scale_bits: 12, range_bits: 28 }";
        let tokens = TokenStream::from_str(source).unwrap();
        let spec = validate(&syn::parse2(tokens).unwrap()).unwrap();
        let expected = NetworkSpec::builder("Digits")
            .input(64)
            .repeat(2, &[Layer::dense(32), Layer::Relu])
            .dense(10)
            .sgd(4)
            .batch(32)
            .scale_bits(12)
            .range_bits(28)
            .build()
            .unwrap();
        assert_eq!(spec, expected);
    }

    #[test]
    fn parse_and_validation_errors_are_reported_together() {
        let messages = errors(
            "Net { input: 0, layers: [dense(8), dense(4), conv(3)], epochs: 3, optimizer: sgd(lr = 0.1), \
             batch: 48 }",
        );
        assert_eq!(messages.len(), 5, "{messages:#?}");
        assert!(messages[0].starts_with("unknown layer `conv`"), "{messages:#?}");
        assert!(messages[1].starts_with("unknown key `epochs`"), "{messages:#?}");
        assert!(messages[2].contains("the nearest is `2^-3`"), "{messages:#?}");
        // The layer list is unknown (it has an unknown layer): its order is not judged.
        assert!(messages[3].starts_with("input width is zero"), "{messages:#?}");
        assert!(messages[4].starts_with("batch 48 is not a power of two"), "{messages:#?}");
        let messages = errors("Net { input: 64, layers: [dense(8), relu], batch: 48 }");
        assert_eq!(
            messages,
            [
                "missing key `optimizer`; add e.g. `optimizer: sgd(lr = 2^-7),`",
                "the last layer is relu; the output layer is dense and takes no ReLU (the MSE loss is on its \
                 pre-activation); remove the final `relu`",
                "batch 48 is not a power of two between 1 and 2^24; the batch sets log2(B) in the update shift and \
                 must be a power of two: write 32 or 64",
            ]
        );
    }

    #[test]
    fn an_error_repeated_by_repeat_is_reported_once() {
        let messages =
            errors("Net { input: 4, layers: [repeat(3) { dense(4), dense(3) }], optimizer: sgd(lr = 1), batch: 1 }");
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages[0].starts_with("dense(3) follows dense(4)"), "{messages:#?}");
        assert!(messages[1].starts_with("dense(4) follows dense(3)"), "{messages:#?}");
    }

    #[test]
    fn huge_values_are_errors_not_panics() {
        let messages = errors(
            "Net { input: 4, layers: [repeat(4294967295) { repeat(4294967295) { dense(2), relu } }, dense(1)], \
             optimizer: sgd(lr = 2^-4294967295), batch: 4294967296, scale_bits: 4294967295, range_bits: 4294967294 }",
        );
        assert!(messages.iter().any(|m| m.contains("expands to more than that entries")), "{messages:#?}");
        assert!(messages.iter().any(|m| m.contains("`4294967296` does not fit in a u32")), "{messages:#?}");
        assert!(messages.iter().any(|m| m.starts_with("scale_bits 4294967295 is above 253")), "{messages:#?}");
        assert!(messages.iter().any(|m| m.starts_with("range_bits 4294967294 is above 253")), "{messages:#?}");
        assert!(messages.iter().any(|m| m.starts_with("learning rate 2^-4294967295 is below 2^-64")), "{messages:#?}");
    }

    /// The messages for malformed declarations, one case per mistake the parser knows.
    #[test]
    fn malformed_declaration_messages() {
        let base = "input: 64, layers: [dense(8), relu, dense(2)], optimizer: sgd(lr = 2^-3), batch: 4";
        let cases = [
            String::new(),
            "pub struct X {}".into(),
            "X".into(),
            "X<T> {}".into(),
            format!("X {{ {base} }} extra"),
            "X { 3: 4 }".into(),
            format!("X {{ {base}, batch }}"),
            format!("X {{ {base}, scale_bits: }}"),
            format!("X {{ {base}, scale_bits = 3 }}"),
            "X { input: 64 layers: [dense(2)], optimizer: sgd(lr = 2^-3), batch: 64 }".into(),
            "X { input: 64, layers: dense(3), optimizer: sgd(lr = 2^-3), batch: 4 }".into(),
            "X { input: 64, layers: [dense, relu(), repeat(2), repeat(2) {}, dense(), dense(1, 2), 5, dense(3) relu], \
             optimizer: sgd(lr = 2^-3), batch: 4 }"
                .into(),
            "X { input: 64, layers: [linear(2)], optimizer: sgd(lr = 2), batch: 4, loss: mse() }".into(),
            "X { input: 64, layers: [dense(2)], optimizer: sgd, batch: 4, loss: xent }".into(),
            "X { input: 64, layers: [dense(2)], optimizer: sgd(), batch: 4 }".into(),
            "X { input: 64, layers: [dense(2)], optimizer: sgd(momentum = 1), batch: 4 }".into(),
            "X { input: 64, layers: [dense(2)], optimizer: sgd(lr 2^-3), batch: 4 }".into(),
            "X { input: 64, layers: [dense(2)], optimizer: sgd(lr = 2^-3, momentum = 0.9), batch: 4 }".into(),
            "X { input: 64, layers: [dense(2)], optimizer: adam(lr = 2^-3), batch: 64 32 }".into(),
            "X { input: -3, layers: [dense(2u8)], optimizer: sgd(lr = 2^-3.5), batch: 1.5 }".into(),
            "X { input: 64, layers: [dense(2)], optimizer: sgd(lr = 2^-70), batch: 4, scale_bits: 40 }".into(),
        ];
        let mut report = String::new();
        for case in cases {
            report.push_str(&format!("{case}\n"));
            for message in errors(&case) {
                report.push_str(&format!("  - {message}\n"));
            }
        }
        insta::assert_snapshot!(report);
    }

    /// Deterministic mutations of the paper net (tokens dropped, duplicated, swapped, replaced): the
    /// macro must answer every one with an expansion or errors, never a panic.
    #[test]
    fn mutated_inputs_never_panic() {
        fn flatten(stream: TokenStream, out: &mut Vec<String>) {
            for tree in stream {
                match tree {
                    proc_macro2::TokenTree::Group(group) => {
                        let (open, close) = match group.delimiter() {
                            proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                            proc_macro2::Delimiter::Brace => ("{", "}"),
                            proc_macro2::Delimiter::Bracket => ("[", "]"),
                            proc_macro2::Delimiter::None => ("", ""),
                        };
                        out.push(open.into());
                        flatten(group.stream(), out);
                        out.push(close.into());
                    }
                    other => out.push(other.to_string()),
                }
            }
        }
        let mut words = Vec::new();
        flatten(TokenStream::from_str(PAPER_NET).unwrap(), &mut words);
        let vocabulary = [
            "0",
            "1",
            "2",
            "-",
            "^",
            ",",
            ":",
            "=",
            "relu",
            "dense",
            "repeat",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "0.5",
            "batch",
            "lr",
            "sgd",
            "mse",
            "pub",
            "#",
            "4294967296",
            "99u8",
            "\"s\"",
            "'a",
            "struct",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        let mut expanded = 0;
        for _ in 0..3000 {
            let mut mutated = words.clone();
            for _ in 0..1 + next(3) {
                let at = next(mutated.len());
                match next(4) {
                    0 => {
                        mutated.remove(at);
                    }
                    1 => mutated.insert(at, vocabulary[next(vocabulary.len())].to_string()),
                    2 => mutated[at] = vocabulary[next(vocabulary.len())].to_string(),
                    _ => {
                        let other = next(mutated.len());
                        mutated.swap(at, other);
                    }
                }
            }
            // Unbalanced delimiters do not tokenize: rustc never hands those to a macro.
            let Ok(tokens) = TokenStream::from_str(&mutated.join(" ")) else { continue };
            if let Ok(tokens) = expand(tokens) {
                expanded += 1;
                syn::parse2::<syn::File>(tokens).expect("every expansion is a Rust file");
            }
        }
        assert!(expanded > 0);
    }
}
