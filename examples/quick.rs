use conv1x1::*;
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cin: usize = args[1].parse().unwrap();
    let cout: usize = args[2].parse().unwrap();
    let hw: usize = args[3].parse().unwrap();
    let layout: Layout = args[4].parse().unwrap();
    let isa: Isa = args[5].parse().unwrap();
    let w = vec![0.01f32; cin * cout];
    let plan = Plan::new(&ConvSpec::new(cin, cout).layout(layout).isa(isa), &w, None).unwrap();
    let dims = Dims::new(1, hw, hw);
    let nbuf = 8;
    let xs: Vec<Vec<f32>> = (0..nbuf)
        .map(|_| vec![1.0f32; plan.input_len(dims).unwrap()])
        .collect();
    let mut y = vec![0.0f32; plan.output_len(dims).unwrap()];
    let flops = 2.0 * (cin * cout * hw * hw) as f64;
    let mut times = vec![];
    for r in 0..200 {
        let t = Instant::now();
        plan.run(dims, &xs[r % nbuf], &mut y, None).unwrap();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let med = times[times.len() / 2];
    println!(
        "{} {}x{}@{} {}: {:.1} GFLOP/s",
        plan.kernel().name,
        cin,
        cout,
        hw,
        layout,
        flops / med / 1e9
    );
}
