use sse_runtime::extract::FromRef;

#[derive(Clone, FromRef)]
enum App {
    Small,
    Large,
}

fn main() {}
