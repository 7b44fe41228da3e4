fn main() {
    for isa in conv1x1::dispatch::supported_isas() {
        println!("{isa}: {:.1}", conv1x1::peak::peak_gflops(isa).unwrap());
    }
}
