//! The `payload!` macro every mutation family declares its payload types with.

/// Declares a mutation payload: `clientMutationId`, `errors` and the given fields.
macro_rules! payload {
    ($ty:ident $(, $field:ident : $field_ty:ty)* $(,)?) => {
        #[derive(async_graphql::SimpleObject)]
        pub struct $ty {
            pub client_mutation_id: Option<String>,
            pub errors: Vec<String>,
            $(pub $field: $field_ty,)*
        }
    };
}
pub(crate) use payload;
