function Stub() {
  return <p>dashboard</p>;
}

export { Stub as Component };
