import { createContext, useContext } from 'react';

export interface Session {
  signOut(): void;
}

export const SessionContext = createContext<Session>({ signOut: () => {} });
export const useSession = () => useContext(SessionContext);
