use sse_runtime::extract::FromRef;

#[derive(Clone, FromRef)]
struct App {
    name: String,
    motto: String,
}

fn main() {}
