function Stub() {
  return <p>batch</p>;
}

export { Stub as Component };
