//! CallFunction (6.5): arguments decoded by their parameter types, errors name the
//! argument at fault.

use super::ProviderServer;
use super::convert::{decode_dynamic, encode_dynamic};
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn call_function(
        &self,
        req: pb::call_function::Request,
    ) -> pb::call_function::Response {
        let fail = |text: String, argument: Option<usize>| pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text,
                function_argument: argument.and_then(|i| i64::try_from(i).ok()),
            }),
        };
        let Some(f) = self.inner.functions.get(req.name.as_str()) else {
            return fail(
                format!("This provider has no function {:?}.", req.name),
                None,
            );
        };
        let sig = f.signature();
        if req.arguments.len() != sig.parameters.len() {
            return fail(
                format!(
                    "{} takes {} arguments, not {}.",
                    req.name,
                    sig.parameters.len(),
                    req.arguments.len()
                ),
                None,
            );
        }
        let mut args = Vec::with_capacity(req.arguments.len());
        for (i, (dv, p)) in req.arguments.iter().zip(&sig.parameters).enumerate() {
            match decode_dynamic(Some(dv), &p.ty) {
                Ok(v) => args.push(v),
                Err(e) => return fail(format!("Invalid value for {}: {e}.", p.name), Some(i)),
            }
        }
        match f.call(&args) {
            Ok(v) => match encode_dynamic(&v, &sig.returns) {
                Ok(dv) => pb::call_function::Response {
                    result: Some(dv),
                    error: None,
                },
                Err(e) => fail(
                    format!("{} produced an invalid result: {e}.", req.name),
                    None,
                ),
            },
            Err(e) => fail(e.text, e.argument),
        }
    }
}
