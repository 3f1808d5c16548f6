import { AnimatePresence, LazyMotion, MotionConfig, domAnimation } from 'framer-motion';
import { useEffect } from 'react';
import { Toaster } from 'sonner';
import { AuthScreen } from '../features/auth/AuthScreen';
import { Shell } from '../features/shell/Shell';
import { ServicesProvider } from '../features/services';
import { sessionSelectors } from '../stores';
import { listenToOtherTabs } from './api';
import { bootstrap } from './bootstrap';
import { runCalls } from './calls';
import { runGateway } from './gateway';
import { registerServiceWorker, runNotifications } from './notifications';
import { runRooms } from './rooms';
import { runRouter } from './route';
import { services } from './services';
import { Splash } from './Splash';
import { useAppStore } from './store';

export function App() {
  const status = useAppStore(sessionSelectors.status);

  useEffect(() => {
    void bootstrap();
    const stopTabs = listenToOtherTabs();
    const stopRouter = runRouter();
    // Calls first: on sign-out they hang up before the gateway closes its socket.
    const stopCalls = runCalls();
    const stopRooms = runRooms();
    const stopGateway = runGateway();
    const stopNotifications = runNotifications();
    registerServiceWorker();
    return () => {
      stopNotifications();
      stopGateway();
      stopRooms();
      stopCalls();
      stopRouter();
      stopTabs();
    };
  }, []);

  return (
    <ServicesProvider value={services}>
      {/* reducedMotion="user": with prefers-reduced-motion, movement is dropped and fades remain. */}
      <MotionConfig reducedMotion="user">
        <LazyMotion features={domAnimation} strict>
          <div className="app-backdrop" aria-hidden="true" />
          <AnimatePresence mode="wait">
            {status === 'unknown' ? (
              <Splash key="splash" />
            ) : status === 'authenticated' ? (
              <Shell key="shell" />
            ) : (
              <AuthScreen key="auth" />
            )}
          </AnimatePresence>
          <Toaster
            theme="system"
            position="bottom-right"
            closeButton
            richColors
            toastOptions={{ duration: 5000 }}
            containerAriaLabel="Notifications"
          />
        </LazyMotion>
      </MotionConfig>
    </ServicesProvider>
  );
}
