function Stub() {
  return <p>new-batch</p>;
}

export { Stub as Component };
